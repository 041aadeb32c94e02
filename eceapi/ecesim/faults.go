package ecesim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// Fault describes what a matching request gets instead of (or on top of)
// the normal answer. Fields combine: Latency then Status/Body, say.
type Fault struct {
	// Status, if non-zero, is the answer's status. With no Body, error
	// statuses get a BasicFailedReply with Code (or a default per status)
	// and the x-cloud-error-codes header.
	Status int
	// Code is the error code of the BasicFailedReply.
	Code string
	// Headers are added to the answer (Retry-After, x-ratelimit-remaining...).
	Headers map[string]string
	// HTMLBody answers an HTML page (like a load balancer's 502) instead of JSON.
	HTMLBody bool
	// Body replaces the answer body verbatim (status 200 unless Status is
	// set): malformed JSON, `null`, wrong types, non-UTF-8 bytes...
	Body []byte
	// Latency delays the answer (the request context still ends it).
	Latency time.Duration
	// Hang never answers until the request context is done.
	Hang bool
	// SlowBody writes half of the body, flushes, waits this long, then
	// writes the rest.
	SlowBody time.Duration
	// Truncate writes only the first half of the normal body.
	Truncate bool
	// ResetConn closes the connection after writing part of the body.
	ResetConn bool
	// OversizeBytes pads the normal JSON body with spaces to at least
	// this many bytes (still valid JSON).
	OversizeBytes int
	// Times limits the fault to the next N matching requests (0 = until
	// cleared).
	Times int
	// Mutate transforms the decoded success body (map[string]any/[]any)
	// before it is encoded: negative costs, duplicate ids, extra fields...
	Mutate func(v any) any
}

type faultState struct {
	Fault
	left int
}

// SetFault installs a fault for an operation (spec operationId); "" or "*"
// applies to every operation. A later SetFault for the same operation
// replaces the earlier one.
func (s *Server) SetFault(operation string, f Fault) {
	if operation == "" {
		operation = "*"
	}
	s.mu.Lock()
	s.faults[operation] = &faultState{Fault: f, left: f.Times}
	s.mu.Unlock()
}

// ClearFaults removes every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = map[string]*faultState{}
	s.mu.Unlock()
}

// takeFault returns the fault for op, consuming one use. Caller holds s.mu.
func (s *Server) takeFault(op string) *faultState {
	for _, key := range []string{op, "*"} {
		f, ok := s.faults[key]
		if !ok {
			continue
		}
		if f.Times > 0 {
			if f.left <= 0 {
				delete(s.faults, key)
				continue
			}
			f.left--
		}
		return f
	}
	return nil
}

var defaultCodes = map[int]string{
	401: "root.unauthorized", 403: "organization.invalid_access", 404: "deployments.deployment_not_found",
	429: "root.rate_limited", 500: "billing_service.failed_request", 502: "root.bad_gateway", 503: "root.service_unavailable",
}

// answered applies the parts of the fault that replace the normal answer;
// it reports whether the answer was written.
func (f *faultState) answered(w http.ResponseWriter, r *http.Request, s *Server) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		}
	}
	if f.Hang {
		<-r.Context().Done()
		return true
	}
	for k, v := range f.Headers {
		w.Header().Set(k, v)
	}
	switch {
	case f.Body != nil:
		status := f.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(f.Body)
		return true
	case f.HTMLBody:
		status := f.Status
		if status == 0 {
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>sim-proxy</center></body></html>\n"))
		return true
	case f.Status >= 400:
		code := f.Code
		if code == "" {
			code = defaultCodes[f.Status]
		}
		if code == "" {
			code = "root.unexpected_error"
		}
		writeError(w, f.Status, code, http.StatusText(f.Status)+" (simulated fault)", true)
		return true
	}
	return false
}

// write sends the normal answer altered by the fault.
func (f *faultState) write(w http.ResponseWriter, r *http.Request, status int, body any) {
	if _, isErr := body.(apiError); isErr || f.Mutate == nil && !f.Truncate && !f.ResetConn && f.SlowBody == 0 && f.OversizeBytes == 0 {
		writeJSON(w, status, body)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{500, "root.unexpected_error", err.Error()})
		return
	}
	if f.Mutate != nil {
		var v any
		_ = json.Unmarshal(b, &v)
		b, _ = json.Marshal(f.Mutate(v))
	}
	if f.OversizeBytes > len(b) {
		b = append(b, bytes.Repeat([]byte(" "), f.OversizeBytes-len(b))...)
	}
	w.Header().Set("Content-Type", "application/json")
	half := len(b) / 2
	switch {
	case f.ResetConn:
		if hj, ok := w.(http.Hijacker); ok {
			conn, buf, err := hj.Hijack()
			if err == nil {
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(b)) + "\r\n\r\n")
				_, _ = buf.Write(b[:half])
				_ = buf.Flush()
				_ = conn.Close()
				return
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(b[:half])
	case f.Truncate:
		w.WriteHeader(status)
		_, _ = w.Write(b[:half])
	case f.SlowBody > 0:
		w.WriteHeader(status)
		_, _ = w.Write(b[:half])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		t := time.NewTimer(f.SlowBody)
		select {
		case <-t.C:
			_, _ = w.Write(b[half:])
		case <-r.Context().Done():
			t.Stop()
		}
	default:
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

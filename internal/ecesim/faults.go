package ecesim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Fault describes what matching requests get instead of, or on top of,
// the normal answer. The request is counted under its operation either
// way. Fields combine; they apply in this order:
//
//  1. Latency, then Hang, delay the answer.
//  2. Headers are set (over the x-ratelimit-* and Content-Type defaults).
//  3. The body: Body, else HTMLBody, else (Status >= 400) a BasicFailedReply
//     replace the normal answer, which is then neither authenticated nor
//     rate limited. Otherwise the normal answer is computed, with Status
//     (< 400) replacing its status and Mutate applied to a 2xx body.
//  4. OversizeBytes pads the body.
//  5. ResetConn, else Truncate, else SlowBody shape how the body is sent.
type Fault struct {
	// Status, if non-zero, is the answer's status. A Status >= 400 without
	// Body or HTMLBody answers a BasicFailedReply with Code and the
	// x-cloud-error-codes header. A Status < 400 without Body replaces
	// the status of the normal answer.
	Status int
	// Code is the error code of the BasicFailedReply and the
	// x-cloud-error-codes header. Empty means the default for the status
	// and operation: 400 costs.invalid_date_range (billing) or
	// root.invalid_data; 401 root.unauthorized (login:
	// root.unauthenticated); 403 organization.invalid_access
	// (get-users-api-keys: root.unauthorized.rbac); 404
	// organization.not_found (billing), api_keys.user_not_found
	// (get-user-api-keys), api_keys.key_not_found (get-api-key),
	// accounts.not_found (get-current-account), root.resource_not_found
	// (list-organizations, unknown paths) or
	// deployments.deployment_not_found; 429 billing_service.rate_limited
	// (chart operations) or root.rate_limited; 500
	// billing_service.failed_request; 501 and 502 on login/refresh-token
	// authc.no_authentication_cluster and authc.authentication_cluster_error,
	// else 502 root.bad_gateway; 503 root.service_unavailable; others
	// root.unexpected_error. A default 401 on list-deployments has no
	// x-cloud-error-codes header, as the spec declares.
	Code string
	// Headers are set on the answer, e.g. Retry-After or
	// x-ratelimit-remaining.
	Headers map[string]string
	// NoRateLimitHeaders drops the x-ratelimit-* headers every answer
	// carries otherwise: a 429 with no hint of when to retry.
	NoRateLimitHeaders bool
	// HTMLBody answers an HTML error page (text/html), like a load
	// balancer's, with Status (default 502).
	HTMLBody bool
	// Body replaces the answer body verbatim, as application/json, with
	// Status (default 200): malformed JSON, `null`, wrong types, huge
	// numbers, non-UTF-8 bytes...
	Body []byte
	// Latency delays the answer; the request's context ends the wait (no
	// answer is written then).
	Latency time.Duration
	// Hang never answers: the handler waits until the request's context
	// is done (the client gives up) or ClearFaults is called (the request
	// is then answered normally). Call ClearFaults before closing an
	// httptest.Server whose clients may still wait on a hang.
	Hang bool
	// SlowBody sends the full Content-Length and half of the body, flushes,
	// waits this long (or until the request's context is done), then
	// sends the rest.
	SlowBody time.Duration
	// Truncate sends only the first half of the body, without the full
	// Content-Length: the HTTP exchange completes but the JSON is cut.
	Truncate bool
	// ResetConn hijacks the connection, sends the headers with the full
	// Content-Length and half of the body, then closes the connection:
	// the client's body read fails (unexpected EOF). (A close rather than
	// a TCP RST, so the client's transport never retries the request.)
	ResetConn bool
	// OversizeBytes pads the body with trailing whitespace to at least
	// this many bytes (a JSON body stays valid).
	OversizeBytes int
	// Times limits the fault to the next N matching requests; 0 means
	// until cleared.
	Times int
	// Mutate transforms the decoded generic JSON (map[string]any, []any,
	// float64...) of a normal 2xx body before it is encoded: negative
	// costs, duplicate ids, empty lists, unknown fields...
	Mutate func(v any) any
	// MutateBody transforms the encoded bytes of a normal 2xx body (after
	// Mutate): what JSON encoding cannot produce, such as invalid UTF-8
	// inside strings.
	MutateBody func(body []byte) []byte
}

type faultState struct {
	Fault
	left int
}

// SetFault installs a fault for an operation (spec operationId, or
// "unknown" for unmatched paths); "" or "*" applies to every operation
// without a fault of its own. It replaces an earlier fault of the same
// operation.
func (s *Server) SetFault(operation string, f Fault) {
	if operation == "" {
		operation = "*"
	}
	s.mu.Lock()
	s.faults[operation] = &faultState{Fault: f, left: f.Times}
	s.mu.Unlock()
}

// ClearFault removes the fault of one operation ("" or "*": the fault for
// every operation).
func (s *Server) ClearFault(operation string) {
	if operation == "" {
		operation = "*"
	}
	s.mu.Lock()
	delete(s.faults, operation)
	s.mu.Unlock()
}

// ClearFaults removes every fault and releases the requests that a Hang
// holds (they are answered normally).
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = map[string]*faultState{}
	close(s.release)
	s.release = make(chan struct{})
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
			f.left--
			if f.left <= 0 {
				delete(s.faults, key)
			}
		}
		return f
	}
	return nil
}

// waitResult is the outcome of a fault's delays.
type waitResult int

const (
	proceed  waitResult = iota // go on with the fault
	gone                       // the client gave up: write nothing
	released                   // ClearFaults ended a hang: answer normally
)

// wait applies Latency and Hang.
func (f *faultState) wait(r *http.Request, release <-chan struct{}) waitResult {
	if (f.Latency > 0 || f.Hang) && r.Body != nil && r.Body != http.NoBody {
		// Read the body first (the handler reads it from memory): until a
		// request body is read to its end, the server does not watch the
		// connection, so a client that gives up on a POST would never end
		// r.Context() and a hang would never end.
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return gone
		}
	}
	if f.Hang {
		select {
		case <-r.Context().Done():
			return gone
		case <-release:
			return released
		}
	}
	return proceed
}

// answer builds the body of a fault that replaces the normal answer.
func (f *faultState) answer(h http.Header, op string) (status int, body []byte, ok bool) {
	status = f.Status
	switch {
	case f.Body != nil:
		if status == 0 {
			status = http.StatusOK
		}
		h.Set("Content-Type", "application/json")
		return status, f.Body, true
	case f.HTMLBody:
		if status == 0 {
			status = http.StatusBadGateway
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		text := fmt.Sprintf("%d %s", status, http.StatusText(status))
		return status, []byte("<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
			"</h1></center>\r\n<hr><center>sim-load-balancer</center>\r\n</body>\r\n</html>\r\n"), true
	case status >= 400:
		code := f.Code
		withHeader := true
		if code == "" {
			code = defaultCode(op, status)
			withHeader = status != http.StatusUnauthorized || op != opListDeployments
		}
		if withHeader {
			h.Set("x-cloud-error-codes", code)
		}
		h.Set("Content-Type", "application/json")
		return status, mustJSON(errorReply{Errors: []errorElement{{Code: code, Message: http.StatusText(status) + " (simulated fault)"}}}), true
	}
	return 0, nil, false
}

// defaultCode is the error code of a fault without Code; see Fault.Code.
func defaultCode(op string, status int) string {
	billing := isBilling(op)
	switch status {
	case 400:
		if billing {
			return "costs.invalid_date_range"
		}
		return "root.invalid_data"
	case 401:
		if op == opLogin {
			return "root.unauthenticated"
		}
		return "root.unauthorized"
	case 403:
		if op == opUsersAPIKeys {
			return "root.unauthorized.rbac"
		}
		return "organization.invalid_access"
	case 404:
		switch {
		case billing:
			return "organization.not_found"
		case op == opUserAPIKeys:
			return "api_keys.user_not_found"
		case op == opAPIKey:
			return "api_keys.key_not_found"
		case op == opAccount:
			return "accounts.not_found"
		case op == opOrganizations || op == "unknown":
			return "root.resource_not_found"
		}
		return "deployments.deployment_not_found"
	case 429:
		if op == opCharts || op == opChartsByDeployment {
			return "billing_service.rate_limited"
		}
		return "root.rate_limited"
	case 500:
		return "billing_service.failed_request"
	case 501:
		return "authc.no_authentication_cluster"
	case 502:
		if op == opLogin || op == opRefresh {
			return "authc.authentication_cluster_error"
		}
		return "root.bad_gateway"
	case 503:
		return "root.service_unavailable"
	}
	return "root.unexpected_error"
}

// setHeaders sets the fault's extra headers.
func (f *faultState) setHeaders(h http.Header) {
	for k, v := range f.Headers {
		h.Set(k, v)
	}
}

// deliver sends status and body shaped by the fault.
func (f *faultState) deliver(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	if f.OversizeBytes > len(body) {
		body = append(body[:len(body):len(body)], bytes.Repeat([]byte(" "), f.OversizeBytes-len(body))...)
	}
	half := len(body) / 2
	switch {
	case f.ResetConn:
		h := w.Header()
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if hj, ok := w.(http.Hijacker); ok {
			conn, buf, err := hj.Hijack()
			if err == nil {
				writeRawResponse(buf, h, status, body[:half])
				_ = conn.Close()
				return
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(body[:half])
		if r.ProtoMajor >= 2 {
			// No hijacking on HTTP/2: abort the stream instead.
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		}
	case f.Truncate:
		w.Header().Del("Content-Length")
		w.WriteHeader(status)
		_, _ = w.Write(body[:half])
	case f.SlowBody > 0:
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		_, _ = w.Write(body[:half])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		t := time.NewTimer(f.SlowBody)
		defer t.Stop()
		select {
		case <-t.C:
			_, _ = w.Write(body[half:])
		case <-r.Context().Done():
		}
	default:
		deliverPlain(w, status, body)
	}
}

// writeRawResponse writes an HTTP/1.1 response head and a partial body on a
// hijacked connection.
func writeRawResponse(buf *bufio.ReadWriter, h http.Header, status int, partial []byte) {
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	h.Set("Connection", "close")
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
	_, _ = buf.Write(partial)
	_ = buf.Flush()
}

// deliverPlain sends a complete answer.
func deliverPlain(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorReply is BasicFailedReply.
type errorReply struct {
	Errors []errorElement `json:"errors"`
}

// errorElement is BasicFailedReplyElement.
type errorElement struct {
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Fields  []string `json:"fields,omitempty"`
}

// reply is a handler's answer: a value to encode or pre-encoded JSON, or
// an error.
type reply struct {
	status int
	body   any    // encoded with encoding/json unless raw is set
	raw    []byte // pre-encoded JSON
	// code is the error code of an error answer; the BasicFailedReply is
	// built from code, msg and fields.
	code, msg    string
	fields       []string
	noCodeHeader bool // omit x-cloud-error-codes (list-deployments 401)
	// text, when set, is sent as text/plain instead of a BasicFailedReply,
	// without x-cloud-error-codes.
	text string
}

func okReply(status int, body any) reply { return reply{status: status, body: body} }

func errReply(status int, code, msg string, fields ...string) reply {
	return reply{status: status, code: code, msg: msg, fields: fields}
}

// encode turns a reply into status and body, setting x-cloud-error-codes
// for errors and applying the fault's Status (< 400), Mutate and
// MutateBody.
func (s *Server) encode(w http.ResponseWriter, rep reply, f *faultState) (int, []byte) {
	status := rep.status
	var body []byte
	if rep.text != "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		body = []byte(rep.text)
	} else if rep.code != "" {
		if !rep.noCodeHeader {
			w.Header().Set("x-cloud-error-codes", rep.code)
		}
		body = mustJSON(errorReply{Errors: []errorElement{{Code: rep.code, Message: rep.msg, Fields: rep.fields}}})
	} else if rep.raw != nil {
		body = rep.raw
	} else {
		body = mustJSON(rep.body)
	}
	if f == nil {
		return status, body
	}
	if f.Mutate != nil && status >= 200 && status < 300 {
		var v any
		if err := json.Unmarshal(body, &v); err == nil {
			body = mustJSON(f.Mutate(v))
		}
	}
	if f.MutateBody != nil && status >= 200 && status < 300 {
		body = f.MutateBody(slices.Clone(body)) // body may be the shared cached listing
	}
	if f.Status > 0 && f.Status < 400 {
		status = f.Status
	}
	return status, body
}

// mustJSON encodes v; the simulator only encodes values that cannot fail,
// except what a Mutate returns, which then answers a JSON error string.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal("ecesim: cannot encode: " + err.Error())
	}
	return b
}

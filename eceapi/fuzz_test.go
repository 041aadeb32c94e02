package eceapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzCheckResponse: for any status, body and headers CheckResponse never
// panics, returns nil exactly for 2xx, a typed error otherwise (a
// *RateLimitError with a usable RetryAfter for 429), and no error string
// carries the credential the request was sent with, even when the answer
// echoes it.
func FuzzCheckResponse(f *testing.F) {
	const key = "FUZZ-SENTINEL-KEY-4d1c"
	const password = "FUZZ-SENTINEL-PW-77e0"
	f.Add(404, []byte(`{"errors":[{"code":"deployments.deployment_not_found","message":"No Deployment"}]}`), "application/json", "deployments.deployment_not_found", "", "", "", uint8(0))
	f.Add(429, []byte(`{"errors":[]}`), "", "billing_service.rate_limited", "12", "0", "60", uint8(0))
	f.Add(429, []byte(``), "", "", "Wed, 21 Oct 2015 07:28:00 GMT", "", "2m", uint8(1))
	f.Add(429, []byte(`x`), "", "", "-1", "0", "1e300", uint8(2))
	f.Add(502, []byte("<html><body>bad gateway</body></html>"), "text/html", "", "", "", "", uint8(0))
	f.Add(200, []byte(`{}`), "", "", "", "", "", uint8(0))
	f.Add(500, []byte{0xff, 0xfe, '{'}, "text/plain; charset=\xff", "a,,b", "NaN", "x", "y", uint8(0))
	f.Add(403, []byte(`{"errors":[{"code":"`+key+`","message":"bad key `+key+`","fields":["`+key+`"]}]}`), "application/json", key, "", "", "", uint8(0))
	f.Add(401, []byte(`{"errors":[{"code":"root.unauthorized","message":"user:`+password+`"}]}`), "", "", "", "", "", uint8(1))
	f.Add(502, []byte("<p>"+strings.Repeat("y", 115)+key+"</p>"), "text/html", "", "", "", "", uint8(0))
	f.Add(500, []byte(`{"errors":[{"code":"x","message":"\u0046UZZ-SENTINEL-KEY-4d1c"}]}`), "", "", "", "", "", uint8(2))
	// The billing v2 service's own bodies.
	f.Add(400, []byte(fixtureOrEmpty("getCostsByInstancesV2/error-invalid-input.json")), "application/json", "", "", "", "", uint8(0))
	f.Add(403, []byte(fixtureOrEmpty("getCostsByInstancesV2/error-forbidden.txt")), "text/plain; charset=utf-8", "", "", "", "", uint8(0))
	f.Add(400, []byte(`{"error":"`+key+`","message":"`+key+`","detail":{"messages":{"`+key+`":["`+key+`"]}}}`), "application/json", "", "", "", "", uint8(0))
	f.Add(400, []byte(`{"error":"e","detail":{"messages":{"a":[1,{}],"b":null,"c":"x"}}}`), "", "", "", "", "", uint8(1))
	f.Fuzz(func(t *testing.T, status int, body []byte, contentType, codes, retry, remaining, interval string, scheme uint8) {
		if status < 100 || status > 999 {
			return
		}
		req, _ := http.NewRequest(http.MethodGet, "https://api.example/api/v1/x?from=2026-01-01", nil)
		var secrets []string
		switch scheme % 3 {
		case 0:
			req.Header.Set("Authorization", "ApiKey "+key)
			secrets = []string{key}
		case 1:
			req.SetBasicAuth("user", password)
			secrets = []string{password, base64.StdEncoding.EncodeToString([]byte("user:" + password))}
		case 2:
			req.Header.Set("Authorization", "Bearer "+key)
			secrets = []string{key}
		}
		h := http.Header{}
		for k, v := range map[string]string{"Content-Type": contentType, "X-Cloud-Error-Codes": codes, "Retry-After": retry,
			"X-Ratelimit-Remaining": remaining, "X-Ratelimit-Interval": interval} {
			if v != "" {
				h.Set(k, v)
			}
		}
		resp := &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
		err := CheckResponse(resp)
		if status >= 200 && status <= 299 {
			if err != nil {
				t.Fatalf("2xx gave %v", err)
			}
			return
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Fatalf("non-2xx not typed: %T %v", err, err)
		}
		var rl *RateLimitError
		if status == http.StatusTooManyRequests {
			if !errors.As(err, &rl) {
				t.Fatalf("429 not a *RateLimitError: %v", err)
			}
			if rl.RetryAfter < 0 || rl.RetryAfter > 24*time.Hour {
				t.Fatalf("RetryAfter %v", rl.RetryAfter)
			}
		} else if errors.As(err, &rl) {
			t.Fatalf("%d is a *RateLimitError", status)
		}
		if strings.Contains(apiErr.Path, "?") || strings.Contains(err.Error(), "from=") {
			t.Fatalf("query string in error: %v", err)
		}
		out := fmt.Sprintf("%s|%v|%+v|%#v", err.Error(), err, apiErr, *apiErr)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("credential in error: %s", out)
			}
		}
	})
}

// FuzzChartItemsDecode: decoding never panics, and a timestamp sent as
// epoch seconds or milliseconds of this era lands on the right instant.
func FuzzChartItemsDecode(f *testing.F) {
	f.Add([]byte(`{"data":[{"timestamp":1794873600,"values":[{"id":"d","name":"n","value":1.5}]}]}`))
	f.Add([]byte(`{"data":[{"timestamp":1794873600000,"values":[]}]}`))
	f.Add([]byte(`{"data":[{"timestamp":1.7e12,"values":null}]}`))
	f.Add([]byte(`{"data":[{"timestamp":1.7948736e9,"values":[]},{"timestamp":"1794873600"}]}`))
	f.Add([]byte(`{"data":[{"timestamp":-9.2e18}]}`))
	f.Add([]byte(`{"data":[{"timestamp":99999999999,"values":[]}]}`))
	f.Add([]byte(`{"data":[{"timestamp":"x"}]}`))
	f.Add([]byte(`{"data":[null]}`))
	f.Add([]byte(fixtureOrEmpty("get-costs-charts/daily-millis.json")))
	f.Add([]byte(fixtureOrEmpty("get-costs-charts/float-timestamps.json")))
	c, err := NewClient()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v ChartItems
		if c.decode(bytes.NewReader(data), &v, "get-costs-charts") != nil {
			return
		}
		for _, it := range v.Data {
			raw := it.RawTimestamp
			if it.Timestamp.Location() != time.UTC {
				t.Fatalf("timestamp %v not in UTC", it.Timestamp)
			}
			switch {
			case raw >= 1e9 && raw < 1e10: // seconds: 2001-09-09 .. 2286-11-20
				if !it.Timestamp.Equal(time.Unix(raw, 0)) {
					t.Fatalf("seconds %d decoded as %v", raw, it.Timestamp)
				}
			case raw >= 1e12 && raw < 1e13: // milliseconds, same range
				if !it.Timestamp.Equal(time.UnixMilli(raw)) {
					t.Fatalf("milliseconds %d decoded as %v", raw, it.Timestamp)
				}
			default:
				continue
			}
			if y := it.Timestamp.Year(); y < 2001 || y > 2286 {
				t.Fatalf("timestamp %d normalised to %v", raw, it.Timestamp)
			}
		}
	})
}

// FuzzDecodeResponses: arbitrary bytes through the client's decode path,
// into every response type: never a panic, and every failure is a
// *DecodeError (or ErrBodyTooLarge).
func FuzzDecodeResponses(f *testing.F) {
	// Every fixture is a seed: the list is the tree, testdata/<operation>/<case>.json.
	seeds, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no fixtures under testdata/<operation>/: %v", err)
	}
	for _, name := range seeds {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"deployments":[{"id":"a","resources":[{"kind":"elasticsearch"}]}]}`))
	f.Add([]byte(`{"costs":{"total":1e308},"resources":[{"hours":1.5}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Add([]byte(`{"keys":[{"id":"k","creation_date":"2026-01-01T00:00:00Z","expiration_date":null}]}`))
	f.Add([]byte(`{"balance":{"line_items":[{"start":"0000-01-01T00:00:00Z"}]}}`))
	f.Add(bytes.Repeat([]byte(`[`), 5000))
	c, err := NewClient(WithMaxBodyBytes(1 << 16))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{&DeploymentsListResponse{}, &RemoteResources{}, &DeploymentResourceUpgradeResponse{}, &AccountResponse{},
			&OrganizationList{}, &CostsOverview{}, &DeploymentsCosts{}, &ItemsCosts{}, &ChartItems{}, &APIKeysResponse{},
			&InstancesCosts{}, &ProductsCosts{}} {
			err := c.decode(bytes.NewReader(data), v, "fuzz")
			var de *DecodeError
			if err != nil && !errors.As(err, &de) && !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("untyped decode error %T: %v", err, err)
			}
			if err == nil {
				if _, merr := json.Marshal(v); merr != nil {
					t.Fatalf("decoded value does not marshal: %v", merr)
				}
			}
		}
	})
}

// fixtureOrEmpty reads a seed from testdata/ (fuzz seeds cannot use t).
func fixtureOrEmpty(name string) string {
	b, err := readTestdata(name)
	if err != nil {
		return ""
	}
	return string(b)
}

// FuzzJWTExpiry: for any token jwtExpiry never panics; an expiry it
// reports is a positive whole second below the milliseconds threshold, in
// UTC; a well-formed JWT carrying a valid exp gives exactly that exp back;
// and sessionExpiry always lands in (now, now+maxSessionTTL], whatever the
// token says. Hostile tokens (many dots, huge payloads) are bounded.
func FuzzJWTExpiry(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	f.Add("", int64(0), "")
	f.Add("sim-bearer-token-1", int64(1893456000), `{"alg":"none"}`)
	f.Add(enc([]byte(`{"alg":"HS256"}`))+"."+enc([]byte(`{"exp":1893456000}`))+".sig", int64(-1), "")
	f.Add("a.b", int64(1e11), `{"exp":"1"}`)
	f.Add("a."+enc([]byte(`{"exp":1e300}`))+".c", int64(1e11-1), "x")
	f.Add("a."+enc([]byte(`{"exp":-5,"exp":7}`))+"==.c", int64(1), "")
	f.Add(strings.Repeat(".", 10000), int64(0), strings.Repeat("a", 9000))
	f.Add("a."+enc([]byte(`{"exp":1.5e9}`))+".c", int64(0), "")
	f.Add("a."+enc([]byte(`{"exp":NaN}`))+".c", int64(0), "")
	now := time.Date(2026, 11, 18, 13, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, tok string, exp int64, header string) {
		check := func(tok string) (time.Time, bool) {
			got, ok := jwtExpiry(tok)
			if !ok {
				if !got.IsZero() {
					t.Fatalf("no expiry, yet a time: %v", got)
				}
			} else {
				if got.Unix() <= 0 || float64(got.Unix()) >= millisThreshold || got.Nanosecond() != 0 || got.Location() != time.UTC {
					t.Fatalf("expiry out of range: %v", got)
				}
			}
			se := sessionExpiry(tokenResponse{Token: tok}, now)
			if !se.After(now) || se.After(now.Add(maxSessionTTL)) {
				t.Fatalf("session expiry %v outside (now, now+%v]", se, maxSessionTTL)
			}
			return got, ok
		}
		check(tok)
		// A JWT built around exp: the claim comes back exactly when valid.
		payload, err := json.Marshal(map[string]any{"exp": exp, "sub": header})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := check(enc([]byte(header)) + "." + enc(payload) + "." + enc([]byte(tok)))
		valid := exp > 0 && float64(exp) < millisThreshold && len(enc(payload)) <= 8192
		if ok != valid || (ok && got.Unix() != exp) {
			t.Fatalf("exp %d: got %v, %v; want valid=%v", exp, got, ok, valid)
		}
	})
}

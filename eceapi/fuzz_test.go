package eceapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

func FuzzCheckResponse(f *testing.F) {
	f.Add(404, []byte(`{"errors":[{"code":"deployments.deployment_not_found","message":"No Deployment"}]}`), "deployments.deployment_not_found", "")
	f.Add(429, []byte(`{"errors":[]}`), "billing_service.rate_limited", "12")
	f.Add(502, []byte("<html><body>bad gateway</body></html>"), "", "")
	f.Add(200, []byte(`{}`), "", "")
	f.Add(500, []byte{0xff, 0xfe, '{'}, "a,,b", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Fuzz(func(t *testing.T, status int, body []byte, codes, retry string) {
		if status < 100 || status > 999 {
			return
		}
		req, _ := http.NewRequest(http.MethodGet, "https://api.example/api/v1/x", nil)
		req.Header.Set("Authorization", "ApiKey "+sentinelKey)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
		resp.Header.Set("x-cloud-error-codes", codes)
		resp.Header.Set("Retry-After", retry)
		err := CheckResponse(resp)
		if status >= 200 && status <= 299 {
			if err != nil {
				t.Fatalf("2xx gave %v", err)
			}
			return
		}
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
			t.Fatalf("non-2xx not typed: %v", err)
		}
		var rl *RateLimitError
		if status == 429 && (!errors.As(err, &rl) || rl.RetryAfter < 0) {
			t.Fatalf("429 not a RateLimitError: %v", err)
		}
		if strings.Contains(err.Error(), sentinelKey) {
			t.Fatal("secret in error")
		}
	})
}

func FuzzChartItemsDecode(f *testing.F) {
	f.Add([]byte(`{"data":[{"timestamp":1794873600,"values":[{"id":"d","name":"n","value":1.5}]}]}`))
	f.Add([]byte(`{"data":[{"timestamp":1794873600000,"values":[]}]}`))
	f.Add([]byte(`{"data":[{"timestamp":1.7e12,"values":null}]}`))
	f.Add([]byte(`{"data":[{"timestamp":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var v ChartItems
		if json.Unmarshal(data, &v) != nil {
			return
		}
		for _, it := range v.Data {
			if it.RawTimestamp >= 1e9 && it.RawTimestamp < 1e10 || it.RawTimestamp >= 1e12 && it.RawTimestamp < 1e13 {
				if y := it.Timestamp.Year(); y < 2001 || y > 2287 {
					t.Fatalf("timestamp %d normalised to %v", it.RawTimestamp, it.Timestamp)
				}
			}
		}
	})
}

func FuzzDecodeResponses(f *testing.F) {
	f.Add([]byte(`{"deployments":[{"id":"a","resources":[{"kind":"elasticsearch"}]}]}`))
	f.Add([]byte(`{"costs":{"total":1e308},"resources":[{"hours":1.5}]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"keys":[{"id":"k","creation_date":"2026-01-01T00:00:00Z","expiration_date":null}]}`))
	c, err := NewClient()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range []any{&DeploymentsListResponse{}, &CostsOverview{}, &DeploymentsCosts{}, &ItemsCosts{}, &ChartItems{},
			&RemoteResources{}, &APIKeysResponse{}, &OrganizationList{}, &AccountResponse{}, &DeploymentResourceUpgradeResponse{}} {
			err := c.decode(bytes.NewReader(data), v, "fuzz")
			var de *DecodeError
			if err != nil && !errors.As(err, &de) && !errors.Is(err, ErrBodyTooLarge) {
				t.Fatalf("untyped decode error %T: %v", err, err)
			}
		}
	})
}

func deploymentsCostsBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"total_cost":12345.6,"deployments":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"deployment_id":"%032x","deployment_name":"sim-deployment-%05d","hourly_rate":1.25,"costs":{"total":123.45,"dimensions":[{"type":"capacity","cost":100},{"type":"data_out","cost":10},{"type":"data_internode","cost":8.45},{"type":"storage_bytes","cost":5}]},"period":{"start":"2026-11-01T00:00:00Z","end":"2026-11-18T12:00:00Z"}}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func deploymentsListBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"deployments":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%032x","name":"sim-deployment-%05d","resources":[{"ref_id":"main-elasticsearch","id":"%032x","kind":"elasticsearch","region":"gcp-europe-west1","cloud_id":"x:y"},{"ref_id":"main-kibana","elasticsearch_cluster_ref_id":"main-elasticsearch","id":"%031xa","kind":"kibana","region":"gcp-europe-west1"},{"ref_id":"main-integrations_server","elasticsearch_cluster_ref_id":"main-elasticsearch","id":"%031xb","kind":"integrations_server","region":"gcp-europe-west1"}]}`, i, i, i, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func benchDecode(b *testing.B, body []byte, v func() any) {
	c, err := NewClient()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.decode(bytes.NewReader(body), v(), "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeploymentsCosts5000 decodes GET /billing/costs/{org}/deployments for 5,000 deployments.
func BenchmarkDecodeDeploymentsCosts5000(b *testing.B) {
	benchDecode(b, deploymentsCostsBody(5000), func() any { return &DeploymentsCosts{} })
}

// BenchmarkDecodeDeploymentsList5000 decodes GET /deployments for 5,000 deployments × 3 resources.
func BenchmarkDecodeDeploymentsList5000(b *testing.B) {
	benchDecode(b, deploymentsListBody(5000), func() any { return &DeploymentsListResponse{} })
}

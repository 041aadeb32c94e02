package eceapi

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// readTestdata reads a fixture, testdata/<operation>/<case>.json (also for
// fuzz seeds, which have no t).
func readTestdata(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

// deploymentsCostsBody is a GET /billing/costs/{organization_id}/deployments
// answer with n deployments of 4 dimensions each.
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

// deploymentsListBody is a GET /deployments answer with n deployments of 3
// resources each.
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

func TestBenchmarkBodies(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	var costs DeploymentsCosts
	if err := c.decode(bytes.NewReader(deploymentsCostsBody(10)), &costs, "x"); err != nil {
		t.Fatal(err)
	}
	var list DeploymentsListResponse
	if err := c.decode(bytes.NewReader(deploymentsListBody(10)), &list, "x"); err != nil {
		t.Fatal(err)
	}
	if len(costs.Deployments) != 10 || len(costs.Deployments[9].Costs.Dimensions) != 4 || costs.Deployments[9].Period == nil ||
		len(list.Deployments) != 10 || len(list.Deployments[9].Resources) != 3 || list.Deployments[9].Resources[2].Kind != "integrations_server" {
		t.Fatal("benchmark bodies do not have the intended shape")
	}
}

// benchClient decodes body as the answer of every request, through the
// whole client (request, transport over loopback, CheckResponse, decode).
func benchClient(b *testing.B, body []byte, call func(*Client) error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	b.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithAPIKey("bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := call(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeDeploymentsCosts5000: GET /billing/costs/{organization_id}/deployments
// with 5,000 deployments × 4 dimensions, through the real client.
func BenchmarkDecodeDeploymentsCosts5000(b *testing.B) {
	benchClient(b, deploymentsCostsBody(5000), func(c *Client) error {
		_, _, err := c.Billing.Deployments(context.Background(), "1234567890", nil)
		return err
	})
}

// BenchmarkDecodeDeploymentsList5000: GET /deployments with 5,000
// deployments × 3 resources, through the real client.
func BenchmarkDecodeDeploymentsList5000(b *testing.B) {
	benchClient(b, deploymentsListBody(5000), func(c *Client) error {
		_, _, err := c.Deployments.List(context.Background())
		return err
	})
}

package eceapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	const limit = 1024
	body := func(n int) string { return `{"id":"` + strings.Repeat("x", n-len(`{"id":""}`)) + `"}` }
	for _, tc := range []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"at the limit", limit, false},
		{"one byte over", limit + 1, true},
		{"far over", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t, WithMaxBodyBytes(limit))
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, body(tc.size)) })
			_, _, err := c.Accounts.Get(context.Background())
			if !tc.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrBodyTooLarge)
			assert.Contains(t, err.Error(), "get account: get-current-account: response body too large (limit 1024 bytes)")
		})
	}
	t.Run("chunked bodies are bounded too", func(t *testing.T) {
		t.Parallel()
		for _, size := range []int{limit, limit + 1} {
			c, mux, _ := setup(t, WithMaxBodyBytes(limit))
			mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
				b := body(size)
				_, _ = w.Write([]byte(b[:10]))
				w.(http.Flusher).Flush() // no Content-Length
				_, _ = w.Write([]byte(b[10:]))
			})
			_, _, err := c.Accounts.Get(context.Background())
			if size == limit {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrBodyTooLarge)
			}
		}
	})
	t.Run("per-operation limits under the cap", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t)
		big := `{"resources":[],"deployments":[],"x":"` + strings.Repeat("x", 1<<20) + `"}`
		mux.HandleFunc(p("/deployments/d/elasticsearch/main-elasticsearch/remote-clusters"), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, big) })
		mux.HandleFunc(p("/deployments"), func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, big) })
		_, _, err := c.Deployments.RemoteClusters(context.Background(), "d", "main-elasticsearch")
		require.ErrorIs(t, err, ErrBodyTooLarge, "1 MiB is far more than any remote-cluster listing")
		assert.Contains(t, err.Error(), "get-deployment-es-resource-remote-clusters: response body too large (limit 1048576 bytes)")
		_, _, err = c.Deployments.List(context.Background())
		require.NoError(t, err, "the deployments listing may be larger")
	})
	t.Run("announced length over the limit fails before reading", func(t *testing.T) {
		t.Parallel()
		c, err := NewClient(WithMaxBodyBytes(limit))
		require.NoError(t, err)
		r := &countingReader{r: strings.NewReader(body(limit + 1))}
		var v AccountResponse
		err = c.decodeSized(r, limit+1, &v, "get-current-account")
		require.ErrorIs(t, err, ErrBodyTooLarge)
		assert.Zero(t, r.n, "nothing read")
		r = &countingReader{r: strings.NewReader(body(limit))}
		require.NoError(t, c.decodeSized(r, limit, &v, "get-current-account"))
	})
	t.Run("error bodies have their own 1 MiB bound", func(t *testing.T) {
		t.Parallel()
		c, mux, _ := setup(t, WithMaxBodyBytes(16))
		mux.HandleFunc(p("/account"), func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 404, `{"errors":[{"code":"accounts.not_found","message":"`+strings.Repeat("m", 2000)+`"}]}`)
		})
		_, _, err := c.Accounts.Get(context.Background())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "accounts.not_found", apiErr.Code(), "an error body beyond the success limit is still read")
	})
}

func TestDecode_Lenient(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	decode := func(body string, v any) error { return c.decode(strings.NewReader(body), v, "test") }

	t.Run("unknown fields are ignored", func(t *testing.T) {
		t.Parallel()
		var v OrganizationList
		require.NoError(t, decode(fixture(t, "list-organizations/unknown-fields.json"), &v))
		assert.Equal(t, OrganizationList{Organizations: []Organization{{ID: "o", Name: "n"}}, NextPage: "c"}, v)
	})
	t.Run("unknown enum values are kept", func(t *testing.T) {
		t.Parallel()
		var v ItemsCosts
		require.NoError(t, decode(fixture(t, "get-costs-items-by-deployment/drift-unknown-enums.json"), &v))
		assert.Equal(t, "synthetics_browser", v.Costs.Dimensions[0].Type)
		assert.Equal(t, "serverless_project", v.Resources[0].Kind)
	})
	t.Run("itemized costs", func(t *testing.T) {
		t.Parallel()
		var i ItemsCosts
		require.NoError(t, decode(fixture(t, "get-costs-items-by-deployment/four-resources.json"), &i))
		assert.Equal(t, 1020.75, i.Costs.Total)
		require.Len(t, i.DataTransferAndStorage, 4)
		assert.Equal(t, DtsDimensionCosts{Cost: 34.5, Name: "Data out", Quantity: DtsQuantity{Value: 575, FormattedValue: "575 GB"},
			Rate: DtsRate{Value: 0.06, FormattedValue: "0.0600 per GB"}, SKU: "gcp.data.out", Type: "data_out"}, i.DataTransferAndStorage[1])
		require.Len(t, i.Resources, 4)
		assert.Equal(t, ItemCosts{Hours: 420, InstanceCount: 2, Kind: "elasticsearch", Price: 810.6, PricePerHour: 1.93,
			Name: "gcp.es.datahot.n2.68x10x45 (8GB x 2 zones)", SKU: "gcp.es.datahot.n2.68x10x45",
			Period: Period{Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 18, 12, 0, 0, 0, time.UTC)}}, i.Resources[0])
		assert.Equal(t, "integrations_server", i.Resources[3].Kind)
	})
	t.Run("null lists of itemized costs", func(t *testing.T) {
		t.Parallel()
		var i ItemsCosts
		require.NoError(t, decode(fixture(t, "get-costs-items-by-deployment/drift-null-lists.json"), &i))
		assert.Empty(t, i.Resources)
		assert.Empty(t, i.DataTransferAndStorage)
		assert.Len(t, i.Costs.Dimensions, 6)
	})
	t.Run("fractional hours and DTS quantities", func(t *testing.T) {
		t.Parallel()
		var v ItemsCosts
		require.NoError(t, decode(fixture(t, "get-costs-items-by-deployment/drift-fractional.json"), &v))
		assert.Equal(t, 10.5, v.Resources[0].Hours)
		assert.Equal(t, 8.326714027673006, v.DataTransferAndStorage[0].Quantity.Value)
	})
	t.Run("large and exponent numbers", func(t *testing.T) {
		t.Parallel()
		var v DeploymentsCosts
		require.NoError(t, decode(fixture(t, "get-costs-deployments/drift-exponent-numbers.json"), &v))
		assert.Equal(t, 1.5e6, v.TotalCost)
		assert.Equal(t, 0.001, v.Deployments[0].HourlyRate)
	})
}

func TestDecode_Rejects(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	for _, tc := range []struct {
		name, body string
		v          any
	}{
		{"null", "null", &DeploymentsListResponse{}},
		{"null with spaces", " \n null \t", &AccountResponse{}},
		{"empty", "", &AccountResponse{}},
		{"string for an array", `{"deployments":"none"}`, &DeploymentsListResponse{}},
		{"string for a number", `{"total_cost":"12.5"}`, &DeploymentsCosts{}},
		{"bad date", `{"keys":[{"id":"k","creation_date":"yesterday"}]}`, &APIKeysResponse{}},
		{"chart without timestamp", `{"data":[{"values":[]}]}`, &ChartItems{}},
		{"chart timestamp not a number", `{"data":[{"timestamp":"soon","values":[]}]}`, &ChartItems{}},
		{"chart timestamp too large", `{"data":[{"timestamp":1e300,"values":[]}]}`, &ChartItems{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := c.decode(strings.NewReader(tc.body), tc.v, "op")
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "op", de.Operation)
		})
	}
}

func TestChartTimestamps(t *testing.T) {
	t.Parallel()
	nov17 := time.Date(2026, 11, 17, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		raw   string
		want  time.Time
		wantR int64
	}{
		{"seconds", "1794873600", nov17, 1794873600},
		{"milliseconds", "1794873600000", nov17, 1794873600000},
		{"float milliseconds with exponent", "1.7948736e12", nov17, 1794873600000},
		{"float seconds with exponent", "1.7948736e9", nov17, 1794873600},
		{"float with fraction", "1794873600000.0", nov17, 1794873600000},
		{"quoted number", `"1794873600"`, nov17, 1794873600},
		{"1.7e12", "1.7e12", time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC), 1700000000000},
		{"epoch", "0", time.Unix(0, 0).UTC(), 0},
		{"negative seconds", "-86400", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), -86400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var it ChartItem
			require.NoError(t, json.Unmarshal([]byte(`{"timestamp":`+tc.raw+`,"values":[{"id":"a","name":"b","value":1.25}]}`), &it))
			assert.Equal(t, tc.want, it.Timestamp)
			assert.Equal(t, time.UTC, it.Timestamp.Location())
			assert.Equal(t, tc.wantR, it.RawTimestamp)
			assert.Equal(t, []ChartItemValue{{ID: "a", Name: "b", Value: 1.25}}, it.Values)
		})
	}
	t.Run("fixture with float timestamps", func(t *testing.T) {
		t.Parallel()
		var ch ChartItems
		require.NoError(t, json.Unmarshal([]byte(fixture(t, "get-costs-charts/float-timestamps.json")), &ch))
		require.Len(t, ch.Data, 3)
		for i, day := range []int{17, 18, 19} {
			assert.Equal(t, time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC), ch.Data[i].Timestamp)
		}
	})
	t.Run("normalizeTimestamp threshold", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, time.Unix(millisThreshold-1, 0).UTC(), normalizeTimestamp(millisThreshold-1), "just below: seconds (year 5138)")
		assert.Equal(t, time.UnixMilli(millisThreshold).UTC(), normalizeTimestamp(millisThreshold), "from the threshold: milliseconds (1973)")
	})
}

// TestCredentialsNeverDecoded: fields of the spec that carry credentials
// have no counterpart in the structs, so they can never be passed on.
func TestCredentialsNeverDecoded(t *testing.T) {
	t.Parallel()
	c, err := NewClient()
	require.NoError(t, err)
	for _, tc := range []struct {
		fixture string
		v       any
	}{
		{"get-api-keys/normal.json", &APIKeysResponse{}},
		{"get-users-api-keys/normal.json", &APIKeysResponse{}},
		{"list-deployments/normal.json", &DeploymentsListResponse{}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			raw := fixture(t, tc.fixture)
			require.Contains(t, raw, "SENTINEL", "the fixture carries a credential")
			require.NoError(t, c.decode(strings.NewReader(raw), tc.v, "op"))
			b, err := json.Marshal(tc.v)
			require.NoError(t, err)
			assert.NotContains(t, string(b), "SENTINEL")
			assert.NotContains(t, string(b), `"key"`)
			assert.NotContains(t, string(b), `"credentials"`)
			assert.NotContains(t, string(b), `"secret_token"`)
		})
	}
}

package ecesim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// walk pages through POST /deployments/_search with size and returns every
// deployment object, checking each page against the spec.
func walk(t *testing.T, s *Server, base string, mode Mode, size int, between func(page int)) []map[string]any {
	t.Helper()
	sp := loadSpec(t, mode)
	var out []map[string]any
	cursor := ""
	for page := 0; ; page++ {
		require.Less(t, page, 1000, "the walk ends")
		req := map[string]any{"size": size, "sort": []any{map[string]any{"id": map[string]any{"order": "asc"}}}}
		if cursor != "" {
			req = map[string]any{"cursor": cursor, "size": 1} // the cursor's size wins
		}
		body, _ := json.Marshal(req)
		a := do(t, "POST", base+"deployments/_search", apiKeyAuth, body)
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
		checkAnswer(t, sp, opSearchDeployments, a)
		deps := list(t, a.body, "deployments")
		assert.Equal(t, float64(len(deps)), num(t, a.body, "return_count"))
		for _, d := range deps {
			out = append(out, d.(map[string]any))
		}
		c, _ := a.obj(t)["cursor"].(string)
		if len(deps) == 0 {
			assert.Empty(t, c, "an empty page has no cursor")
			return out
		}
		require.NotEmpty(t, c, "a page with deployments has a cursor")
		cursor = c
		if between != nil {
			between(page)
		}
	}
}

func TestSearchDeploymentsPaging(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeESS, ModeECE} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			s, base := start(t, Options{Mode: mode, Seed: 3, DeploymentsPerOrg: 30})
			got := walk(t, s, base, mode, 7, nil)
			var ids, want []string
			for _, d := range got {
				ids = append(ids, d["id"].(string))
			}
			for _, d := range s.Deployments() {
				want = append(want, d.ID)
			}
			slices.Sort(want)
			assert.Equal(t, want, ids, "every deployment once, sorted by id")
			assert.Equal(t, 30/7+2, s.Requests(opSearchDeployments), "full pages, the last partial one, and the empty page")

			// Same options, same answers.
			s2, base2 := start(t, Options{Mode: mode, Seed: 3, DeploymentsPerOrg: 30})
			again := walk(t, s2, base2, mode, 30, nil)
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(again)
			assert.JSONEq(t, string(a), string(b), "the page size changes nothing but the paging")
		})
	}
}

// TestSearchDeploymentsMix: the problems the exporter alerts on all appear
// among the first ten deployments (the demo's).
func TestSearchDeploymentsMix(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 1, DeploymentsPerOrg: 10})
	got := walk(t, s, base, ModeESS, 100, nil)
	require.Len(t, got, 10)
	count := map[string]int{}
	for _, d := range got {
		if d["healthy"] == false {
			count["unhealthy"]++
		}
		for _, r := range list(t, d, "resources", "elasticsearch") {
			info := path(t, r, "info").(map[string]any)
			count["shards_"+path(t, info, "elasticsearch", "shards_status", "status").(string)]++
			if path(t, info, "plan_info").(map[string]any)["pending"] != nil {
				count["pending"]++
			}
			if path(t, info, "plan_info", "healthy") == false {
				count["plan_failed"]++
			}
			if path(t, info, "snapshots", "recent_success") == false {
				count["old_snapshot"]++
			}
			if path(t, info, "snapshots", "latest_status") == "FAILED" {
				count["failed_snapshot"]++
			}
			if len(list(t, info, "system_alerts")) > 0 {
				count["oom"]++
			}
			if path(t, info, "plan_info", "current", "plan", "elasticsearch", "version") == deletedVersion {
				count["deleted_version"]++
			}
			for _, in := range list(t, info, "topology", "instances") {
				if num(t, in, "memory", "memory_pressure") >= 75 {
					count["memory"]++
				}
				if num(t, in, "disk", "disk_space_used") >= 0.9*num(t, in, "disk", "disk_space_available") {
					count["disk"]++
				}
			}
		}
	}
	for _, k := range []string{"unhealthy", "shards_red", "shards_yellow", "pending", "plan_failed", "old_snapshot", "failed_snapshot", "oom", "deleted_version", "memory", "disk"} {
		assert.Positive(t, count[k], k)
	}
	assert.Equal(t, 10, count["shards_green"]+count["shards_yellow"]+count["shards_red"])
}

func TestSearchDeploymentsDeletedBetweenPages(t *testing.T) {
	t.Parallel()
	s, base := start(t, Options{Seed: 2, DeploymentsPerOrg: 12})
	var all []string
	for _, d := range s.Deployments() {
		all = append(all, d.ID)
	}
	slices.Sort(all)
	// After the first page (ids 0..4), delete one of them: a cursor that
	// counted positions would now skip all[5]; search_after does not.
	got := walk(t, s, base, ModeESS, 5, func(page int) {
		if page == 0 {
			require.True(t, s.DeleteDeployment(all[0]))
		}
	})
	var ids []string
	for _, d := range got {
		ids = append(ids, d["id"].(string))
	}
	want := all
	assert.Equal(t, want, ids, "no deployment skipped or repeated")
}

func TestSearchDeploymentsBadRequests(t *testing.T) {
	t.Parallel()
	_, base := start(t, Options{Seed: 2})
	for _, body := range []string{`{"cursor":"not-a-cursor"}`, `{"size":"ten"}`, `[`} {
		a := do(t, "POST", base+"deployments/_search", apiKeyAuth, []byte(body))
		assert.Equal(t, http.StatusBadRequest, a.status, body)
		assert.Equal(t, "root.invalid_json_request", a.errCode(t), body)
	}
	a := do(t, "POST", base+"deployments/_search", apiKeyAuth, nil)
	assert.Equal(t, http.StatusOK, a.status, "no body: every deployment matches")
	assert.Len(t, list(t, a.body, "deployments"), 10)
	a = do(t, "POST", base+"deployments/_search", "ApiKey wrong", nil)
	assert.Equal(t, http.StatusUnauthorized, a.status)
	a = get(t, base+"deployments/_search")
	assert.Equal(t, http.StatusMethodNotAllowed, a.status)
}

func TestStackVersions(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeESS, ModeECE} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			_, base := start(t, Options{Mode: mode, Seed: 2})
			sp := loadSpec(t, mode)
			for _, showDeleted := range []bool{false, true} {
				a := get(t, base+fmt.Sprintf("stack/versions?show_deleted=%v", showDeleted))
				require.Equal(t, http.StatusOK, a.status)
				checkAnswer(t, sp, opStackVersions, a)
				stacks := list(t, a.body, "stacks")
				var versions []string
				for _, st := range stacks {
					m := st.(map[string]any)
					versions = append(versions, m["version"].(string))
					_, hasAcc := m["accessible"]
					assert.Equal(t, mode == ModeESS, hasAcc, "accessible is sent by ESS only")
				}
				assert.Equal(t, showDeleted, slices.Contains(versions, deletedVersion), versions)
				assert.Contains(t, versions, currentVersion)
			}
		})
	}
}

// TestSearchHangEndsWhenTheClientGivesUp: a hang on a POST with a body
// (the search) ends when the client gives up, as on a GET; otherwise a
// hung handler would block the server's Close forever.
func TestSearchHangEndsWhenTheClientGivesUp(t *testing.T) {
	t.Parallel()
	s := New(Options{Seed: 2, Now: fixedNow})
	srv := httptest.NewServer(s)
	s.SetFault(opSearchDeployments, Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/v1/deployments/_search", strings.NewReader(`{"size":10}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", apiKeyAuth)
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	closed := make(chan struct{})
	go func() { srv.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		s.ClearFaults() // unblock, then fail
		<-closed
		t.Fatal("the hung search handler did not end when its client gave up")
	}
}

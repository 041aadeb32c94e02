package collector

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ece-exporter/ece_exporter/eceapi"
)

// TestFanOut: 404s are skipped, other failures are partial, all failed is
// a failed poll, and a cancelled context fails the whole.
func TestFanOut(t *testing.T) {
	t.Parallel()
	notFound := &eceapi.APIError{StatusCode: http.StatusNotFound}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		outcome []error // per item; nil = success
		added   []int
		partial int
		fails   string
	}{
		{name: "all ok", outcome: []error{nil, nil, nil}, added: []int{0, 1, 2}},
		{name: "404 skipped", outcome: []error{nil, notFound, nil}, added: []int{0, 2}},
		{name: "partial", outcome: []error{boom, nil, notFound}, added: []int{1}, partial: 1},
		{name: "all 404", outcome: []error{notFound, notFound}},
		{name: "all failed", outcome: []error{boom, boom}, fails: "widgets of all 2 items failed, first error: boom"},
		{name: "none", outcome: nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := NewSnapshot("a")
			items := make([]int, len(tc.outcome))
			for i := range items {
				items[i] = i
			}
			var added []int
			err := fanOut(context.Background(), s, items, 2, "widgets", "items",
				func(_ context.Context, i int) (int, error) { return i * 10, tc.outcome[i] },
				func(i, r int) {
					assert.Equal(t, i*10, r)
					added = append(added, i)
				})
			if tc.fails != "" {
				require.EqualError(t, err, tc.fails)
				assert.ErrorIs(t, err, boom)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.added, added)
			assert.Len(t, s.Partial, tc.partial)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := fanOut(ctx, NewSnapshot("a"), []int{1}, 1, "widgets", "items",
		func(context.Context, int) (int, error) { return 0, nil }, func(int, int) {})
	assert.ErrorIs(t, err, context.Canceled)
}

package eceapi

import (
	"context"
	"fmt"
	"io"
)

// bodyLimits is the largest success body accepted per spec operation,
// sized from what the operation can really return (with a wide margin),
// so that a hostile or broken upstream cannot make every in-flight request
// hold tens of MiB. WithMaxBodyBytes (http.max_body_bytes) caps them all;
// an operation not listed gets DefaultBodyLimit. README's "Response body
// limits" table lists the same values (TestREADMEBodyLimits).
var bodyLimits = map[string]int64{
	// One listing of every deployment, ~700 bytes per deployment (the
	// simulator's faithful shape): 32 MiB holds ~48,000. One request per
	// poll.
	"list-deployments": 32 << 20,
	// Organization-wide billing answers, one request per organization and
	// poll: ~450 bytes per deployment for the costs (16 MiB: ~37,000
	// deployments; 8 MiB failed the billing poll of a 20,000-deployment
	// organization), ~90 bytes per deployment and day for daily charts.
	"get-costs-deployments": 16 << 20,
	"get-costs-charts":      8 << 20,
	// The billing v2 organization-wide answers carry every line item of
	// every billed instance: ~3.2 KiB per deployment in costs/instances
	// (16 MiB at 5,000 deployments, measured against the simulator by
	// collector's TestBillingCallsPerCycleV1V2), about as much in
	// costs/items; 32 MiB holds ~10,000. The v2 charts are sized like v1's.
	"getCostsByInstancesV2": 32 << 20,
	"getCostsByItemsV2":     32 << 20,
	"getChartsV2":           8 << 20,
	// API keys, ~190 bytes per key: every key of the platform (ECE _all,
	// 4 MiB: ~22,000 keys), or the user's own.
	"get-users-api-keys": 4 << 20,
	// A page of the deployment search (the health collector asks 250 at
	// a time): ~6,200 bytes per deployment with 3 resources, health,
	// plans and topology in the simulator (1.55 MB per page of 250); 4 MiB
	// leaves ~16 KiB per deployment for larger topologies.
	"search-deployments": 4 << 20,
	// Every stack version the platform offers, each with its components'
	// capacity constraints, plugins and node types: ~1.5 KB in the
	// simulator (a handful of versions), some hundred KB on ESS (over a
	// hundred versions); one request every few hours.
	"get-version-stacks": 4 << 20,
	// ECE platform: a page of 100 allocators (AllocatorsPageSize) is
	// ~560 bytes per allocator plus ~200 per instance it hosts (58 KB for a
	// page without instances in the simulator; 4 MiB: ~200 instances per
	// allocator); the runners, one per host and not paged, ~390 bytes each
	// (4 MiB: ~10,000 hosts).
	"get-allocators": 4 << 20,
	"get-runners":    4 << 20,
	"get-api-keys":   2 << 20,
	// Per-deployment answers, fanned out over many deployments at once:
	// they must stay small, as max_in_flight of them may be read together.
	// A deployment's items are ~2 KiB, its charts ~250 bytes per bucket, a
	// remote cluster ~240 bytes (1 MiB: ~4,000 per resource).
	"get-costs-items-by-deployment":              2 << 20,
	"get-costs-charts-by-deployment":             2 << 20,
	"get-deployment-es-resource-remote-clusters": 1 << 20,
	"upgrade-deployment-stateless-resource":      1 << 20,
	// Small singletons: the proxies' health summary (440 bytes in the
	// simulator), the license (380 bytes) and a TLS certificate chain
	// (~1.3 KB for two certificates; a PEM certificate is 1–3 KB).
	"get-proxies-health":  1 << 20,
	"get-license":         256 << 10,
	"get-tls-certificate": 256 << 10,
	"get-costs-overview":  1 << 20,
	"get-current-account": 1 << 20,
	"list-organizations":  1 << 20,
	"login":               64 << 10,
	"refresh-token":       64 << 10,
}

// largeBodyOps are the organization-wide answers, each requested at most
// once per poll: the bodies of these are read one at a time per client
// (the others wait for the body before theirs, honouring their context),
// so that max_in_flight of them (8 × 32 MiB) can never be held at once.
// With it, the memory a client's requests can hold is the largest of
// these limits plus the max_in_flight - 1 largest other limits
// (TestHostileBodiesBoundedMemory).
var largeBodyOps = map[string]bool{
	"list-deployments":      true,
	"get-costs-deployments": true,
	"get-costs-charts":      true,
	"getCostsByInstancesV2": true,
	"getCostsByItemsV2":     true,
	"getChartsV2":           true,
}

// acquireBody waits until op's body may be read; release must be called
// once it is read.
func (c *Client) acquireBody(ctx context.Context, op string) (release func(), err error) {
	if !largeBodyOps[op] || c.largeBodies == nil {
		return func() {}, nil
	}
	select {
	case c.largeBodies <- struct{}{}:
		return func() { <-c.largeBodies }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: waiting to read the body: %w", op, ctx.Err())
	}
}

// DefaultBodyLimit applies to an operation missing from bodyLimits.
const DefaultBodyLimit int64 = 2 << 20

// bodyLimit is the limit of op: its bodyLimits entry, capped by the
// client's max body bytes.
func (c *Client) bodyLimit(op string) int64 {
	n, ok := bodyLimits[op]
	if !ok {
		n = DefaultBodyLimit
	}
	return min(n, c.maxBodyBytes)
}

// limitedReader reads at most n bytes and fails with ErrBodyTooLarge on
// the first byte beyond them, so that a decoder reading from it stops
// there instead of buffering the rest.
type limitedReader struct {
	r     io.Reader
	n     int64 // bytes left
	limit int64
	op    string
	// err is the last error of r other than io.EOF: it tells a broken
	// connection from a body that ended cleanly but too early.
	err error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, l.tooLarge()
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF { //nolint:errorlint // io.EOF is returned unwrapped by contract
		l.err = err
	}
	l.n -= int64(n)
	if l.n < 0 {
		// The byte past the limit is not handed on.
		return n - 1, l.tooLarge()
	}
	return n, err
}

func (l *limitedReader) tooLarge() error {
	return fmt.Errorf("%s: %w (limit %d bytes)", l.op, ErrBodyTooLarge, l.limit)
}

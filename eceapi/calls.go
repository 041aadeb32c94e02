package eceapi

import (
	"context"
	"sync/atomic"
)

type callCounterKey struct{}

// WithCallCounter returns a context whose requests are counted in n: every
// attempt the client sends with it (retries included) adds one. The
// exporter's status page shows the calls of a collector's last poll this
// way, without the client knowing about collectors.
func WithCallCounter(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, callCounterKey{}, n)
}

// countCall adds one to the counter of ctx, if it has one.
func countCall(ctx context.Context) {
	if n, ok := ctx.Value(callCounterKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
}

// Redact replaces every secret in s, in every form a server or proxy may
// echo it (as is, any ASCII case, JSON-, HTML-, percent- and
// base64-encoded), by "<secret>": the client's own redaction of API
// errors, for texts built outside the client.
func Redact(s string, secrets ...string) string {
	return redact(s, secrets)
}

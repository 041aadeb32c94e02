package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	sloggokit "github.com/tjhop/slog-gokit"
)

// newLoggers returns the logger of our packages and the *slog.Logger that
// exporter-toolkit wants, both writing to w in one format with one key set:
// level, ts (UTC, RFC 3339), caller, msg, then the record's own keys.
func newLoggers(w io.Writer, format, lvl string) (log.Logger, *slog.Logger) {
	var l log.Logger
	if format == "json" {
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	} else {
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	}
	var opt level.Option
	slogLevel := slog.LevelInfo
	switch lvl {
	case "debug":
		opt, slogLevel = level.AllowDebug(), slog.LevelDebug
	case "warn":
		opt, slogLevel = level.AllowWarn(), slog.LevelWarn
	case "error":
		opt, slogLevel = level.AllowError(), slog.LevelError
	default:
		opt = level.AllowInfo()
	}
	base := level.NewFilter(l, opt)
	logger := log.With(base, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	// The bridge is built from the logger without ts and caller: slog
	// records carry their own time and call site, which slogRecordKeys
	// writes under our names and in our order.
	slogger := slog.New(sloggokit.NewGoKitHandler(log.LoggerFunc(func(kv ...any) error {
		return base.Log(slogRecordKeys(kv)...)
	}), slogLevel))
	return logger, slogger
}

// slogRecordKeys rewrites the pairs of slog-gokit (level, caller, time, msg,
// attributes) as our own lines are written: level, ts in UTC RFC 3339, caller,
// then the rest.
func slogRecordKeys(kv []any) []any {
	out := make([]any, 0, len(kv)+2)
	var lvl, ts, caller []any
	var rest []any
	for i := 0; i+1 < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		switch {
		case k == level.Key() && lvl == nil:
			lvl = []any{k, v}
		case k == slog.TimeKey && ts == nil:
			if t, ok := v.(time.Time); ok {
				v = t.UTC().Format(time.RFC3339Nano)
			}
			ts = []any{"ts", v}
		case k == "caller" && caller == nil:
			caller = []any{k, v}
		default:
			rest = append(rest, k, v)
		}
	}
	if ts == nil {
		ts = []any{"ts", time.Now().UTC().Format(time.RFC3339Nano)}
	}
	out = append(out, lvl...)
	out = append(out, ts...)
	out = append(out, caller...)
	return append(out, rest...)
}

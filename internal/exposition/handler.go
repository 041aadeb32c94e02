// Package exposition builds the /metrics handler, shared by the daemon and the
// bench harness so that what is measured is what is served: NewHandler
// writes the formats Prometheus negotiates from bytes the snapshots encode
// once per poll (cached.go, encode.go, gzip.go), and Handler serves the
// other formats with promhttp from decoded families.
package exposition

import (
	"compress/gzip"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
)

// AcceptedFormats are the exposition formats /metrics offers: the
// Prometheus 0.0.4 text, OpenMetrics 1.0.0 and 0.0.1 text, and protobuf.
// The scraper's q-values decide (Prometheus 2 and 3 rank OpenMetrics first
// unless a scrape config prefers protobuf); this order only breaks ties, so
// the 0.0.4 text comes first: a browser's `*/*` gets a page it displays, not
// an application/openmetrics-text download.
//
// What OpenMetrics changes in the answer: a `# EOF` line ends it; a
// counter's `# TYPE`/`# HELP` lines name the family without its `_total`
// (every counter of the exporter is named `…_total`, so the sample names,
// and the series Prometheus stores, are the same as in the 0.0.4 text);
// no `_created` series (EnableOpenMetricsTextCreatedSamples stays off: they
// would double every counter's cardinality); no `# UNIT` (no family sets a
// unit); histogram `le` values are written as floats (`le="1.0"`, which
// Prometheus 3 also does when it parses the 0.0.4 text). Names are escaped
// as the scraper's `escaping=` parameter asks (Prometheus 3 sends
// `allow-utf-8`); every name of the exporter is a legacy Prometheus name, so
// escaping never changes one.
func AcceptedFormats() []expfmt.Format {
	return []expfmt.Format{
		expfmt.FmtText,
		expfmt.FmtOpenMetrics_1_0_0,
		expfmt.FmtOpenMetrics_0_0_1,
		expfmt.FmtProtoDelim,
		expfmt.FmtProtoText,
		expfmt.FmtProtoCompact,
	}
}

// Negotiate returns the format (Content-Type, escaping parameter included)
// /metrics answers a request with these headers in: the one place the
// choice is made, for the promhttp handler below and for any encoder that
// writes the exposition itself.
func Negotiate(h http.Header) expfmt.Format {
	return expfmt.NegotiateAccept(h, AcceptedFormats()...)
}

// Handler serves g with promhttp in the format Negotiate picks (NewHandler's
// answer for the formats it does not cache) and
// compresses answers for clients that accept gzip (Prometheus does), at the
// fastest level: at 5,000 deployments a scrape is 46 MB of text, and
// promhttp's default gzip level would spend more time compressing than the
// exporter spends producing it, for an answer only a quarter bigger. Small
// answers (under 1 KiB) go uncompressed. opts.AcceptedFormats and
// opts.EnableOpenMetrics are overridden (AcceptedFormats decides).
func Handler(g prometheus.Gatherer, opts promhttp.HandlerOpts) (http.Handler, error) {
	opts.DisableCompression = true
	opts.EnableOpenMetrics = true
	opts.AcceptedFormats = AcceptedFormats()
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.BestSpeed), gzhttp.MinSize(1024), gzhttp.EnableZstd(false))
	if err != nil {
		return nil, err
	}
	return wrap(promhttp.HandlerFor(g, opts)), nil
}

// Package exposition builds the /metrics handler, shared by the daemon and the
// bench harness so that what is measured is what is served.
package exposition

import (
	"compress/gzip"
	"net/http"

	"github.com/klauspost/compress/gzhttp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Handler serves g with promhttp and compresses answers for clients
// that accept gzip (Prometheus does), at the fastest level: at 5,000
// deployments a scrape is 46 MB of text, and promhttp's default gzip level
// would spend more time compressing than the exporter spends producing it,
// for an answer only a quarter bigger. Small answers (under 1 KiB) go
// uncompressed.
func Handler(g prometheus.Gatherer, opts promhttp.HandlerOpts) (http.Handler, error) {
	opts.DisableCompression = true
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(gzip.BestSpeed), gzhttp.MinSize(1024), gzhttp.EnableZstd(false))
	if err != nil {
		return nil, err
	}
	return wrap(promhttp.HandlerFor(g, opts)), nil
}

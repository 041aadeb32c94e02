//go:build tools

// Package deps pins module dependencies that the tree imports as it grows.
package deps

import (
	_ "github.com/alecthomas/kingpin/v2"
	_ "github.com/getkin/kin-openapi/openapi2"
	_ "github.com/getkin/kin-openapi/openapi2conv"
	_ "github.com/getkin/kin-openapi/openapi3filter"
	_ "github.com/go-kit/log"
	_ "github.com/go-kit/log/level"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/collectors/version"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "github.com/prometheus/common/version"
	_ "github.com/prometheus/exporter-toolkit/web"
	_ "github.com/prometheus/exporter-toolkit/web/kingpinflag"
	_ "github.com/stretchr/testify/require"
	_ "github.com/tjhop/slog-gokit"
	_ "go.uber.org/goleak"
	_ "golang.org/x/time/rate"
	_ "gopkg.in/yaml.v3"
)

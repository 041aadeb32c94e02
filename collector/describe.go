package collector

import (
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ece-exporter/ece_exporter/config"
)

// MetricNames returns the name of every metric the registered collectors
// and the Manager's self-metrics can expose, sorted. It builds each
// collector with default settings and reads its descriptors; README's
// metric table is checked against it.
func MetricNames() []string {
	labels := MetricLabels()
	out := make([]string, 0, len(labels))
	for n := range labels {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// MetricLabels returns, for every metric of MetricNames, its variable
// label names in declared order.
func MetricLabels() map[string][]string {
	seen := map[string][]string{}
	add := func(d *prometheus.Desc) {
		if m := descRE.FindStringSubmatch(d.String()); m != nil {
			var labels []string
			if m[2] != "" {
				labels = strings.Split(m[2], ",")
			}
			seen[m[1]] = labels
		}
	}
	env := Env{Settings: config.DefaultCollectors, Logger: log.NewNopLogger(), Discovery: NewDiscovery(), orgs: &orgSource{}}
	for _, name := range Names() {
		src, err := registry[name].New(env)
		if err != nil {
			continue
		}
		collectDescs(reflect.ValueOf(src), add)
	}
	self, _ := newSelfMetrics(nil)
	collectDescs(reflect.ValueOf(self), add)
	for _, c := range self.vectors() {
		ch := make(chan *prometheus.Desc, 4)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			add(d)
		}
	}
	return seen
}

// descRE reads the name and the variable labels out of Desc.String().
var descRE = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

var (
	descType       = reflect.TypeOf((*prometheus.Desc)(nil))
	seriesDescType = reflect.TypeOf((*seriesDesc)(nil))
)

// collectDescs finds *prometheus.Desc and *seriesDesc values in struct
// fields and arrays.
func collectDescs(v reflect.Value, add func(*prometheus.Desc)) {
	one := func(f reflect.Value) bool {
		if f.IsNil() {
			return f.Type() == descType || f.Type() == seriesDescType
		}
		switch f.Type() {
		case descType:
			add((*prometheus.Desc)(f.UnsafePointer()))
		case seriesDescType:
			add((*seriesDesc)(f.UnsafePointer()).desc)
		default:
			return false
		}
		return true
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() || one(v) {
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			switch f := v.Field(i); f.Kind() {
			case reflect.Pointer:
				one(f)
			case reflect.Array:
				collectDescs(f, add)
			}
		}
	case reflect.Array, reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if f := v.Index(i); f.Kind() == reflect.Pointer {
				one(f)
			}
		}
	}
}

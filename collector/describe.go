package collector

import (
	"reflect"
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
	seen := map[string]struct{}{}
	add := func(d *prometheus.Desc) {
		s := d.String()
		i := strings.Index(s, `fqName: "`)
		if i < 0 {
			return
		}
		s = s[i+len(`fqName: "`):]
		seen[s[:strings.Index(s, `"`)]] = struct{}{}
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
	for _, c := range []prometheus.Collector{self.errors, self.requests, self.requestDuration, self.rlRemaining, self.rlLimit, self.rlInterval, self.credExpiry} {
		ch := make(chan *prometheus.Desc, 4)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			add(d)
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var descType = reflect.TypeOf((*prometheus.Desc)(nil))

// collectDescs finds *prometheus.Desc values in struct fields and arrays.
func collectDescs(v reflect.Value, add func(*prometheus.Desc)) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		if v.Type() == descType {
			add(v.Interface().(*prometheus.Desc))
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if f.Type() == descType && !f.IsNil() {
				add((*prometheus.Desc)(f.UnsafePointer()))
			} else if f.Kind() == reflect.Array {
				collectDescs(f, add)
			}
		}
	case reflect.Array, reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			if v.Index(i).Type() == descType && !v.Index(i).IsNil() {
				add((*prometheus.Desc)(v.Index(i).UnsafePointer()))
			}
		}
	}
}

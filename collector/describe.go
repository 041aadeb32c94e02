package collector

import (
	"sort"

	"github.com/go-kit/log"
)

// MetricNames returns the name of every metric the registered collectors
// and the Manager's self-metrics can expose, sorted. README's metric table
// is checked against it.
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
// label names in declared order. It builds each collector with its default
// options and lists the descriptors its factory created (every descriptor
// goes through the collector's descSet, wherever the Source keeps it).
func MetricLabels() map[string][]string {
	seen := map[string][]string{}
	for _, name := range Names() {
		for _, d := range registry[name].describe() {
			seen[d.name] = d.labels
		}
	}
	self, _ := newSelfMetrics(nil)
	for n, l := range self.defs {
		seen[n] = l
	}
	return seen
}

// describe returns the descriptors of the collector, built with its
// default options.
func (r *Registration) describe() []*seriesDesc {
	set := &descSet{collector: r.Name}
	env := Env{Options: r.Defaults, Logger: log.NewNopLogger(), Discovery: NewDiscovery(), orgs: &orgSource{}, descs: set}
	if _, err := r.New(env); err != nil {
		panic("collector " + r.Name + ": factory fails with its defaults: " + err.Error())
	}
	return set.descs
}

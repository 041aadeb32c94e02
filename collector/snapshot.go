package collector

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
)

// seriesDesc describes one data metric family (every data metric is a
// gauge whose first label is account).
type seriesDesc struct {
	desc   *prometheus.Desc // for the prometheus.Collector path
	name   string
	help   string
	labels []string // declared order
	// order[i] is the index in labels of the i-th label name in sorted
	// order: the order of dto label pairs.
	order       []int
	sortedNames []string
	err         error
}

func newSeriesDesc(name, help string, labels []string) *seriesDesc {
	d := &seriesDesc{
		desc: prometheus.NewDesc(name, help, labels, nil),
		name: name, help: help, labels: labels,
		order: make([]int, len(labels)), sortedNames: make([]string, len(labels)),
	}
	if !model.LegacyValidation.IsValidMetricName(name) {
		d.err = fmt.Errorf("invalid metric name %q", name)
	}
	for i := range labels {
		d.order[i] = i
		if !model.LegacyValidation.IsValidLabelName(labels[i]) {
			d.err = fmt.Errorf("metric %s: invalid label name %q", name, labels[i])
		}
	}
	sort.SliceStable(d.order, func(a, b int) bool { return labels[d.order[a]] < labels[d.order[b]] })
	for i, idx := range d.order {
		d.sortedNames[i] = labels[idx]
		if i > 0 && d.sortedNames[i] == d.sortedNames[i-1] {
			d.err = fmt.Errorf("metric %s: duplicate label name %q", name, labels[idx])
		}
	}
	return d
}

// Snapshot is the immutable result of one successful poll: every series is
// built once, as the protobuf structure the exposition encoders read, and
// served by every scrape until the next successful poll.
//
// Memory matters at 5,000 deployments (a quarter of a million series):
// label pairs are interned per snapshot (a deployment's id is one pair
// shared by all its series) and the protobuf structs are carved out of
// chunks rather than allocated one by one.
type Snapshot struct {
	account string
	metrics []seriesMetric
	// families is set by seal: the metrics grouped by name, sorted by name
	// and by label values, without duplicates.
	families []*dto.MetricFamily
	sealed   bool
	// Partial holds per-item failures of a poll that succeeded as a whole
	// (one deployment's remote clusters failed, say).
	Partial []error
	// invalid counts series dropped because they could not be built or
	// were duplicates.
	invalid int

	pairs map[labelKey]*dto.LabelPair // build time only
	arena arena                       // build time only
}

type labelKey struct{ name, value string }

// NewSnapshot returns an empty snapshot for account.
func NewSnapshot(account string) *Snapshot { return &Snapshot{account: account} }

// Len returns the number of series.
func (s *Snapshot) Len() int { return len(s.metrics) }

// gauge adds one series; the account label value is prepended. Label
// values that are not valid UTF-8 are repaired rather than dropped.
func (s *Snapshot) gauge(d *seriesDesc, v float64, labelValues ...string) {
	if s.sealed {
		panic("collector: series added to a sealed snapshot")
	}
	if d.err != nil || len(labelValues)+1 != len(d.labels) {
		s.invalid++
		return
	}
	if s.pairs == nil {
		s.pairs = map[labelKey]*dto.LabelPair{}
	}
	lp := s.arena.labels(len(d.labels))
	for i, idx := range d.order {
		val := s.account
		if idx > 0 {
			val = labelValues[idx-1]
		}
		if !utf8.ValidString(val) {
			val = strings.ToValidUTF8(val, "\uFFFD")
		}
		lp[i] = s.pair(&d.sortedNames[i], val)
	}
	g := next(&s.arena.gauges, &s.arena.n)
	f := next(&s.arena.floats, &s.arena.n)
	*f = v
	g.Value = f
	m := next(&s.arena.metrics, &s.arena.n)
	m.Label, m.Gauge = lp, g
	s.metrics = append(s.metrics, seriesMetric{d, m})
}

// pair returns the interned label pair name=value.
func (s *Snapshot) pair(name *string, value string) *dto.LabelPair {
	k := labelKey{*name, value}
	if p, ok := s.pairs[k]; ok {
		return p
	}
	v := next(&s.arena.strings, &s.arena.n)
	*v = value
	p := next(&s.arena.pairs, &s.arena.n)
	p.Name, p.Value = name, v
	s.pairs[k] = p
	return p
}

// seal sorts the series, drops duplicates (a duplicate would make the
// whole exposition invalid), groups them into families and freezes the
// snapshot. The poller seals every snapshot before publishing it, off the
// scrape path; sealing twice is a no-op.
func (s *Snapshot) seal() {
	if s.sealed {
		return
	}
	s.sealed, s.pairs, s.arena = true, nil, arena{}
	// Stable: among duplicates the first added is kept.
	slices.SortStableFunc(s.metrics, func(a, b seriesMetric) int {
		if c := cmp.Compare(a.d.name, b.d.name); c != 0 {
			return c
		}
		return compareLabels(a.m, b.m)
	})
	kept := s.metrics[:0]
	for i, sm := range s.metrics {
		if i > 0 && sm.d.name == s.metrics[i-1].d.name && compareLabels(sm.m, s.metrics[i-1].m) == 0 {
			s.invalid++
			continue
		}
		kept = append(kept, sm)
	}
	clear(s.metrics[len(kept):])
	s.metrics = slices.Clip(kept)
	s.relayout()
	for i := 0; i < len(s.metrics); {
		j := i + 1
		for j < len(s.metrics) && s.metrics[j].d.name == s.metrics[i].d.name {
			j++
		}
		d := s.metrics[i].d
		mf := &dto.MetricFamily{Name: &d.name, Help: &d.help, Type: dto.MetricType_GAUGE.Enum(), Metric: make([]*dto.Metric, 0, j-i)}
		for _, sm := range s.metrics[i:j] {
			mf.Metric = append(mf.Metric, sm.m)
		}
		s.families = append(s.families, mf)
		i = j
	}
}

// relayout copies the sorted series into fresh chunks in exposition
// order, with the label pairs and their value bytes laid out in order of
// first use: a scrape then walks memory mostly sequentially instead of
// chasing pointers into chunks filled in API order (at a quarter of a
// million series the cache misses were a good part of the encoding time).
func (s *Snapshot) relayout() {
	var a arena
	pairs := make(map[*dto.LabelPair]*dto.LabelPair, len(s.metrics)/8)
	var order []*dto.LabelPair // new pairs, in order of first use
	var size int
	for i, sm := range s.metrics {
		lp := a.labels(len(sm.m.Label))
		for j, old := range sm.m.Label {
			p, ok := pairs[old]
			if !ok {
				p = next(&a.pairs, &a.n)
				p.Name, p.Value = old.Name, old.Value
				pairs[old] = p
				order = append(order, p)
				size += len(old.GetValue())
			}
			lp[j] = p
		}
		f := next(&a.floats, &a.n)
		*f = sm.m.GetGauge().GetValue()
		g := next(&a.gauges, &a.n)
		g.Value = f
		m := next(&a.metrics, &a.n)
		m.Label, m.Gauge = lp, g
		s.metrics[i].m = m
	}
	// One string holds every label value; each pair's value is a slice
	// of it.
	var b strings.Builder
	b.Grow(size)
	for _, p := range order {
		b.WriteString(p.GetValue())
	}
	all, off := b.String(), 0
	for _, p := range order {
		n := len(p.GetValue())
		v := next(&a.strings, &a.n)
		*v = all[off : off+n]
		p.Value = v
		off += n
	}
}

// compareLabels orders two series of one family the way client_golang's
// registry does: by label values, in label-name order.
func compareLabels(a, b *dto.Metric) int {
	for i := 0; i < len(a.Label) && i < len(b.Label); i++ {
		if c := cmp.Compare(a.Label[i].GetName(), b.Label[i].GetName()); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Label[i].GetValue(), b.Label[i].GetValue()); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.Label), len(b.Label))
}

// seriesMetric is one series of a snapshot; it is also a prometheus.Metric
// so that a snapshot can be served by a plain registry (Manager.Collect).
type seriesMetric struct {
	d *seriesDesc
	m *dto.Metric
}

// Desc implements prometheus.Metric.
func (s seriesMetric) Desc() *prometheus.Desc { return s.d.desc }

// Write implements prometheus.Metric; the label pairs and the gauge are
// shared, as a const metric shares its label pairs.
func (s seriesMetric) Write(out *dto.Metric) error {
	out.Label, out.Gauge = s.m.Label, s.m.Gauge
	return nil
}

// arena hands out the protobuf structs of one snapshot from chunks that
// grow with the snapshot (16 elements first, then doubling up to 1,024),
// so a small snapshot stays small and a large one costs a few hundred
// allocations instead of several per series.
type arena struct {
	metrics []dto.Metric
	gauges  []dto.Gauge
	floats  []float64
	pairs   []dto.LabelPair
	strings []string
	ptrs    []*dto.LabelPair
	n       int // series so far, sizes the next chunk
}

func chunkSize(n int) int { return min(max(16, n), 1024) }

// next returns a pointer to a fresh zero element of *chunk, starting a new
// chunk when the current one is full (the old one stays alive through the
// pointers into it).
func next[T any](chunk *[]T, n *int) *T {
	if len(*chunk) == cap(*chunk) {
		*chunk = make([]T, 0, chunkSize(*n))
	}
	*chunk = (*chunk)[:len(*chunk)+1]
	*n++
	return &(*chunk)[len(*chunk)-1]
}

// labels returns a slice of n label pointers with no spare capacity.
func (a *arena) labels(n int) []*dto.LabelPair {
	if cap(a.ptrs)-len(a.ptrs) < n {
		a.ptrs = make([]*dto.LabelPair, 0, max(n, 8*chunkSize(a.n)))
	}
	l := len(a.ptrs)
	a.ptrs = a.ptrs[:l+n]
	return a.ptrs[l : l+n : l+n]
}

// mergeFamilies merges name-sorted family lists into one name-sorted list.
// A family found in several lists (the same metric from several accounts)
// gets its series merged in label order; a series found twice is kept
// once. Families present in one list only are passed through unchanged:
// a scrape copies pointers, it does not rebuild series.
func mergeFamilies(lists ...[]*dto.MetricFamily) ([]*dto.MetricFamily, error) {
	var all []*dto.MetricFamily
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortStableFunc(all, func(a, b *dto.MetricFamily) int { return cmp.Compare(a.GetName(), b.GetName()) })
	out := make([]*dto.MetricFamily, 0, len(all))
	var errs prometheus.MultiError
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].GetName() == all[i].GetName() {
			j++
		}
		if j == i+1 {
			out = append(out, all[i])
		} else {
			mf, err := mergeSameFamily(all[i:j])
			errs.Append(err)
			out = append(out, mf)
		}
		i = j
	}
	return out, errs.MaybeUnwrap()
}

// mergeSameFamily merges the series of families with one name, each
// sorted by labels. The usual case, one list per account, is a
// concatenation: account is part of every series' labels, so the lists
// follow one another once ordered by their first series. Lists that
// interleave are merged pairwise, in rounds (n·log k).
func mergeSameFamily(fams []*dto.MetricFamily) (*dto.MetricFamily, error) {
	first := fams[0]
	var err error
	lists := make([][]*dto.Metric, 0, len(fams))
	total := 0
	for _, f := range fams {
		if f.GetType() != first.GetType() {
			err = fmt.Errorf("metric family %s exposed with types %s and %s; keeping %s", first.GetName(), first.GetType(), f.GetType(), first.GetType())
			continue
		}
		if len(f.Metric) > 0 {
			lists = append(lists, f.Metric)
			total += len(f.Metric)
		}
	}
	slices.SortStableFunc(lists, func(a, b []*dto.Metric) int { return compareLabels(a[0], b[0]) })
	disjoint := true
	for i := 1; i < len(lists) && disjoint; i++ {
		prev := lists[i-1]
		disjoint = compareLabels(prev[len(prev)-1], lists[i][0]) < 0
	}
	var merged []*dto.Metric
	switch {
	case len(lists) == 0:
	case disjoint:
		merged = make([]*dto.Metric, 0, total)
		for _, l := range lists {
			merged = append(merged, l...)
		}
	default:
		for len(lists) > 1 {
			next := lists[:0:0]
			for i := 0; i < len(lists); i += 2 {
				if i+1 < len(lists) {
					next = append(next, mergeSorted(lists[i], lists[i+1]))
				} else {
					next = append(next, lists[i])
				}
			}
			lists = next
		}
		merged = lists[0]
	}
	return &dto.MetricFamily{Name: first.Name, Help: first.Help, Type: first.Type, Unit: first.Unit, Metric: merged}, err
}

func mergeSorted(a, b []*dto.Metric) []*dto.Metric {
	out := make([]*dto.Metric, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareLabels(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default: // the same series twice: keep the first
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

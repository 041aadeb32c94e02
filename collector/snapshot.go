package collector

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
)

// seriesDesc describes one data metric family (every data metric is a
// gauge whose first label is account).
type seriesDesc struct {
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

// Snapshot is the immutable result of one successful poll. A poll records
// each series compactly (its descriptor, its value and its label values);
// seal sorts them and builds the protobuf structures the exposition
// encoders read, once, and every scrape serves those until the next
// successful poll.
//
// Memory matters at 5,000 deployments (a quarter of a million series):
// seal interns label pairs (a deployment's id is one pair shared by all its
// series), keeps every label value in one string, and allocates the
// protobuf structs in a few slices laid out in exposition order, so that a
// scrape walks memory mostly sequentially.
type Snapshot struct {
	account string
	// families is set by seal: the series grouped by name, sorted by name
	// and by label values, without duplicates.
	families []*dto.MetricFamily
	series   int // after seal
	sealed   bool
	// Partial holds per-item failures of a poll that succeeded as a whole
	// (one deployment's remote clusters failed, say).
	Partial []error
	// invalid counts series dropped because they could not be built or
	// were duplicates.
	invalid int
	// built is how long seal took: sorting, deduplicating and encoding the
	// series for the exposition formats scrapes ask for (the exporter's
	// own share of a poll, the API calls excluded).
	built time.Duration

	// Build time only: the series recorded, their label pairs (indexes
	// into pairs) and the interned pairs.
	records []record
	labels  []int32
	pairs   []labelKey
	names   []*string // of pairs, pointing into the descriptors
	index   map[labelKey]int32
}

// record is one series before seal: its label pairs, in sorted label-name
// order, are labels[off:off+len(d.labels)].
type record struct {
	d   *seriesDesc
	v   float64
	off int
}

type labelKey struct{ name, value string }

// NewSnapshot returns an empty snapshot for account.
func NewSnapshot(account string) *Snapshot { return &Snapshot{account: account} }

// Len returns the number of series.
func (s *Snapshot) Len() int {
	if s.sealed {
		return s.series
	}
	return len(s.records)
}

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
	if s.index == nil {
		s.index = map[labelKey]int32{}
	}
	off := len(s.labels)
	for i, idx := range d.order {
		val := s.account
		if idx > 0 {
			val = labelValues[idx-1]
		}
		if !utf8.ValidString(val) {
			val = strings.ToValidUTF8(val, "\uFFFD")
		}
		k := labelKey{d.sortedNames[i], val}
		p, ok := s.index[k]
		if !ok {
			p = int32(len(s.pairs))
			s.index[k] = p
			s.pairs = append(s.pairs, k)
			s.names = append(s.names, &d.sortedNames[i])
		}
		s.labels = append(s.labels, p)
	}
	s.records = append(s.records, record{d: d, v: v, off: off})
}

// labelsOf returns the label pairs of r, in sorted label-name order.
func (s *Snapshot) labelsOf(r record) []int32 { return s.labels[r.off : r.off+len(r.d.labels)] }

// compareRecords orders series the way client_golang's registry does: by
// name, then by label values in label-name order.
func (s *Snapshot) compareRecords(a, b record) int {
	if c := cmp.Compare(a.d.name, b.d.name); c != 0 {
		return c
	}
	la, lb := s.labelsOf(a), s.labelsOf(b)
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] == lb[i] {
			continue // the same interned pair
		}
		pa, pb := s.pairs[la[i]], s.pairs[lb[i]]
		if c := cmp.Compare(pa.name, pb.name); c != 0 {
			return c
		}
		if c := cmp.Compare(pa.value, pb.value); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(la), len(lb))
}

// seal sorts the series, drops duplicates (a duplicate would make the
// whole exposition invalid), builds the protobuf families and freezes the
// snapshot. The poller seals every snapshot before publishing it, off the
// scrape path; sealing twice is a no-op.
func (s *Snapshot) seal() {
	if s.sealed {
		return
	}
	s.sealed = true
	start := time.Now()
	defer func() { s.built = time.Since(start) }()
	// Stable: among duplicates the first added is kept.
	slices.SortStableFunc(s.records, s.compareRecords)
	kept := s.records[:0]
	nLabels := 0
	for i, r := range s.records {
		if i > 0 && s.compareRecords(r, s.records[i-1]) == 0 {
			s.invalid++
			continue
		}
		kept = append(kept, r)
		nLabels += len(r.d.labels)
	}
	s.build(kept, nLabels)
	s.series = len(kept)
	s.records, s.labels, s.pairs, s.names, s.index = nil, nil, nil, nil, nil
}

// build turns the sorted, unique records into families. Each struct kind
// is one allocation; the label pairs in use are laid out, with their value
// bytes, in order of first use.
func (s *Snapshot) build(recs []record, nLabels int) {
	// Number the pairs in use by first use, and size their values.
	order := make([]int32, len(s.pairs))
	for i := range order {
		order[i] = -1
	}
	var used []int32 // build indexes, by first use
	size := 0
	for _, r := range recs {
		for _, p := range s.labelsOf(r) {
			if order[p] < 0 {
				order[p] = int32(len(used))
				used = append(used, p)
				size += len(s.pairs[p].value)
			}
		}
	}
	// One string holds every label value; each pair's value is a slice of it.
	var b strings.Builder
	b.Grow(size)
	for _, p := range used {
		b.WriteString(s.pairs[p].value)
	}
	all, off := b.String(), 0
	vals := make([]string, len(used))
	pairs := make([]dto.LabelPair, len(used))
	for i, p := range used {
		k := &s.pairs[p]
		vals[i] = all[off : off+len(k.value)]
		off += len(k.value)
		pairs[i].Value = &vals[i]
		pairs[i].Name = s.names[p]
	}

	metrics := make([]dto.Metric, len(recs))
	gauges := make([]dto.Gauge, len(recs))
	floats := make([]float64, len(recs))
	ptrs := make([]*dto.LabelPair, nLabels)
	at := 0
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].d.name == recs[i].d.name {
			j++
		}
		d := recs[i].d
		mf := &dto.MetricFamily{Name: &d.name, Help: &d.help, Type: dto.MetricType_GAUGE.Enum(), Metric: make([]*dto.Metric, j-i)}
		for k := i; k < j; k++ {
			lp := ptrs[at : at+len(recs[k].d.labels) : at+len(recs[k].d.labels)]
			for n, p := range s.labelsOf(recs[k]) {
				lp[n] = &pairs[order[p]]
			}
			at += len(lp)
			floats[k] = recs[k].v
			gauges[k].Value = &floats[k]
			metrics[k].Label, metrics[k].Gauge = lp, &gauges[k]
			mf.Metric[k-i] = &metrics[k]
		}
		s.families = append(s.families, mf)
		i = j
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

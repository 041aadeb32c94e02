package collector

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"

	"github.com/ece-exporter/ece_exporter/internal/exposition"
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
// each series compactly (its descriptor, its value and its label pairs,
// interned: a deployment's id is one pair shared by all its series); seal
// sorts them, drops duplicates, packs every label value into one string and
// encodes the families in the exposition formats scrapes ask for (see
// exposition.Wants), so that a scrape writes bytes encoded once per poll.
// The compact records stay, the protobuf structs are built only on demand
// (Families, Family): at 5,000 deployments that is a fraction of the
// memory a quarter of a million dto.Metric take.
type Snapshot struct {
	account string
	series  int // after seal
	sealed  bool
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

	// The series, sorted and unique after seal: records point into labels
	// (indexes into pairs, in sorted label-name order); fams are the
	// ranges of records of one name.
	records []record
	labels  []int32
	pairs   []labelKey
	fams    []famRange
	index   map[labelKey]int32 // build time only

	// wants, when set, says which encodings seal prepares and which
	// identity bodies are kept.
	wants *exposition.Wants
	// enc has one lock per kind: a scrape in one kind never waits for a
	// lazy encoding of another.
	enc [exposition.NumKinds]encoding
	// encodes counts the encodings made (tests: once per kind, not per
	// scrape).
	encodes atomic.Int32
	// onEncode, when set (tests), is called as an encoding of kind k
	// starts.
	onEncode func(k exposition.Kind)
}

// famRange is one family: records[lo:hi].
type famRange struct{ lo, hi int }

// encoding is the snapshot in one exposition kind.
type encoding struct {
	mu     sync.Mutex // guards fams, body and chunks
	fams   []exposition.Family
	body   []byte
	chunks [][]exposition.Chunk
	// kept are the bytes kept, identity ([0]) and compressed ([1]):
	// written by fill, read without the lock by the self-metrics, so
	// that a gather never waits for an encoding in progress.
	kept [2]atomic.Int64
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
// whole exposition invalid), compacts them and encodes what scrapes will
// ask for. The poller seals every snapshot before publishing it, off the
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
	for i, r := range s.records {
		if i > 0 && s.compareRecords(r, s.records[i-1]) == 0 {
			s.invalid++
			continue
		}
		kept = append(kept, r)
	}
	s.compact(kept)
	s.series = len(s.records)
	for k := exposition.Kind(0); k < exposition.NumKinds; k++ {
		id, gz := s.wants.Wanted(k, false), s.wants.Wanted(k, true)
		if id || gz {
			e := &s.enc[k]
			e.mu.Lock()
			s.fill(k, gz, id)
			e.mu.Unlock()
		}
	}
}

// compact keeps the records in exactly sized slices, renumbers the label
// pairs in use by first use and packs their values into one string.
func (s *Snapshot) compact(recs []record) {
	order := make([]int32, len(s.pairs))
	for i := range order {
		order[i] = -1
	}
	var used []int32
	size, nLabels := 0, 0
	for _, r := range recs {
		nLabels += len(r.d.labels)
		for _, p := range s.labelsOf(r) {
			if order[p] < 0 {
				order[p] = int32(len(used))
				used = append(used, p)
				size += len(s.pairs[p].value)
			}
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, p := range used {
		b.WriteString(s.pairs[p].value)
	}
	all, off := b.String(), 0
	pairs := make([]labelKey, len(used))
	for i, p := range used {
		n := len(s.pairs[p].value)
		pairs[i] = labelKey{name: s.pairs[p].name, value: all[off : off+n]}
		off += n
	}
	records := make([]record, len(recs))
	labels := make([]int32, 0, nLabels)
	var fams []famRange
	for i, r := range recs {
		records[i] = record{d: r.d, v: r.v, off: len(labels)}
		for _, p := range s.labelsOf(r) {
			labels = append(labels, order[p])
		}
		if i == 0 || r.d.name != recs[i-1].d.name {
			fams = append(fams, famRange{lo: i, hi: i})
		}
		fams[len(fams)-1].hi = i + 1
	}
	s.records, s.labels, s.pairs, s.fams, s.index = records, labels, pairs, fams, nil
}

// Encoded returns the snapshot's families in kind k, encoding them on
// first use (exposition.Snapshot). An uncompressed body asked for but not
// wanted (a one-off curl) is encoded for this answer only, outside the
// lock: it reads only the sealed series, and the scrapes of the kept
// encodings do not wait for it.
func (s *Snapshot) Encoded(k exposition.Kind, gz bool) exposition.Encoded {
	e := &s.enc[k]
	e.mu.Lock()
	if !gz && e.body == nil && !s.wants.Wanted(k, false) {
		chunks := e.chunks
		e.mu.Unlock()
		fams, body := s.encode(k, 0, nil)
		e.mu.Lock()
		if e.fams == nil {
			e.fams = fams
		}
		e.mu.Unlock()
		return exposition.Encoded{Fams: fams, Body: body, Chunks: chunks}
	}
	defer e.mu.Unlock()
	if e.fams == nil || (!gz && e.body == nil) || (gz && e.chunks == nil) {
		s.fill(k, gz, !gz || s.wants.Wanted(k, false))
	}
	return exposition.Encoded{Fams: e.fams, Body: e.body, Chunks: e.chunks}
}

// fill encodes kind k (s.enc[k].mu held): the body, the compressed
// chunks when gz, and keeps the body when keepBody. Compressed without a
// body to keep, the samples are encoded and compressed a chunk at a time.
func (s *Snapshot) fill(k exposition.Kind, gz, keepBody bool) {
	e := &s.enc[k]
	defer e.count()
	if gz && e.chunks == nil {
		e.chunks = make([][]exposition.Chunk, len(s.fams))
	}
	compress := func(i int, b []byte) {
		for len(b) > 0 {
			n := min(len(b), exposition.ChunkSize)
			e.chunks[i] = append(e.chunks[i], exposition.Compress(b[:n]))
			b = b[n:]
		}
	}
	switch {
	case e.body != nil && gz:
		for i, f := range e.fams {
			if len(e.chunks[i]) == 0 {
				compress(i, e.body[f.Start:f.End])
			}
		}
	case e.body != nil:
	case keepBody:
		e.fams, e.body = s.encode(k, 0, nil)
		if gz {
			s.fill(k, gz, keepBody)
		}
	default:
		e.fams, _ = s.encode(k, exposition.ChunkSize, compress)
	}
}

// encode returns the families and their samples in kind k. With flushAt
// above zero, flush gets each family's samples in pieces of about
// flushAt bytes instead and no body is returned.
func (s *Snapshot) encode(k exposition.Kind, flushAt int, flush func(fam int, b []byte)) ([]exposition.Family, []byte) {
	s.encodes.Add(1)
	if s.onEncode != nil {
		s.onEncode(k)
	}
	// Each pair encoded once.
	offs := make([]int32, len(s.pairs)+1)
	var enc []byte
	for i, p := range s.pairs {
		enc = exposition.AppendLabel(enc, k, p.name, p.value)
		offs[i+1] = int32(len(enc))
	}
	size := flushAt + 4096
	if flushAt <= 0 {
		// The body's size, so that it is allocated once.
		size = 0
		for _, r := range s.records {
			size += len(r.d.name) + 32
			for _, p := range s.labelsOf(r) {
				size += int(offs[p+1]-offs[p]) + 1
			}
		}
	}
	body := make([]byte, 0, size)
	pos := 0 // of body[0] in the whole answer
	var hdr []byte
	hdrEnds := make([]int, len(s.fams))
	fams := make([]exposition.Family, len(s.fams))
	var scratch [][]byte
	for i, fr := range s.fams {
		d := s.records[fr.lo].d
		fams[i] = exposition.Family{Name: d.name, Start: pos + len(body), Account: s.account, AccountFirst: d.order[0] == 0}
		for _, r := range s.records[fr.lo:fr.hi] {
			scratch = scratch[:0]
			for _, p := range s.labelsOf(r) {
				scratch = append(scratch, enc[offs[p]:offs[p+1]])
			}
			body = exposition.AppendGaugeSample(body, k, d.name, scratch, r.v)
			if flushAt > 0 && len(body) >= flushAt {
				flush(i, body)
				pos, body = pos+len(body), body[:0]
			}
		}
		fams[i].End = pos + len(body)
		if flushAt > 0 && len(body) > 0 {
			flush(i, body)
			pos, body = pos+len(body), body[:0]
		}
		hdr = exposition.AppendGaugeHeader(hdr, k, d.name, d.help)
		hdrEnds[i] = len(hdr)
	}
	prev := 0
	for i := range fams {
		fams[i].Header = hdr[prev:hdrEnds[i]:hdrEnds[i]]
		prev = hdrEnds[i]
	}
	if flushAt > 0 {
		return fams, nil
	}
	return fams, body
}

// count records the bytes e keeps (e.mu held).
func (e *encoding) count() {
	n := 0
	for _, cs := range e.chunks {
		for _, c := range cs {
			n += len(c.Data)
		}
	}
	e.kept[0].Store(int64(len(e.body)))
	e.kept[1].Store(int64(n))
}

// addCachedBytes adds the bytes the snapshot keeps per kind, identity
// ([k][0]) and compressed ([k][1]). It takes no lock: a scrape's
// self-metrics never wait for an encoding in progress.
func (s *Snapshot) addCachedBytes(sizes *[exposition.NumKinds][2]int) {
	for k := range s.enc {
		sizes[k][0] += int(s.enc[k].kept[0].Load())
		sizes[k][1] += int(s.enc[k].kept[1].Load())
	}
}

// Families returns the snapshot's families decoded, sorted by name (built
// at each call: scrapes in the cached formats never need them).
func (s *Snapshot) Families() []*dto.MetricFamily {
	pairs := s.dtoPairs()
	out := make([]*dto.MetricFamily, len(s.fams))
	for i, fr := range s.fams {
		out[i] = s.familyOf(fr, pairs)
	}
	return out
}

// Family returns the family named name decoded, or nil
// (exposition.Snapshot).
func (s *Snapshot) Family(name string) *dto.MetricFamily {
	i, ok := slices.BinarySearchFunc(s.fams, name, func(fr famRange, n string) int { return cmp.Compare(s.records[fr.lo].d.name, n) })
	if !ok {
		return nil
	}
	return s.familyOf(s.fams[i], s.dtoPairs())
}

func (s *Snapshot) dtoPairs() []dto.LabelPair {
	pairs := make([]dto.LabelPair, len(s.pairs))
	for i := range s.pairs {
		pairs[i].Name, pairs[i].Value = &s.pairs[i].name, &s.pairs[i].value
	}
	return pairs
}

func (s *Snapshot) familyOf(fr famRange, pairs []dto.LabelPair) *dto.MetricFamily {
	recs := s.records[fr.lo:fr.hi]
	d := recs[0].d
	metrics := make([]dto.Metric, len(recs))
	gauges := make([]dto.Gauge, len(recs))
	ptrs := make([]*dto.LabelPair, len(recs)*len(d.labels))
	mf := &dto.MetricFamily{Name: &d.name, Help: &d.help, Type: dto.MetricType_GAUGE.Enum(), Metric: make([]*dto.Metric, len(recs))}
	for i, r := range recs {
		lp := ptrs[:len(d.labels):len(d.labels)]
		ptrs = ptrs[len(d.labels):]
		for n, p := range s.labelsOf(r) {
			lp[n] = &pairs[p]
		}
		gauges[i].Value = &recs[i].v
		metrics[i].Label, metrics[i].Gauge = lp, &gauges[i]
		mf.Metric[i] = &metrics[i]
	}
	return mf
}

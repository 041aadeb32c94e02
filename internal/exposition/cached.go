package exposition

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// Snapshot is one poll's gauge families, sealed: what /metrics serves
// from bytes encoded once per poll instead of once per scrape.
type Snapshot interface {
	// Encoded returns the families in kind k, with the identity bytes
	// (gz false) or the compressed chunks (gz true) present. It encodes
	// on first use and is safe for concurrent use; what it returns never
	// changes.
	Encoded(k Kind, gz bool) Encoded
	// Family returns one family decoded, for the merges the cached path
	// does not do (nil when the snapshot has no such family).
	Family(name string) *dto.MetricFamily
}

// Encoded is a snapshot's families in one kind.
type Encoded struct {
	// Fams are sorted by name; each family has at least one series.
	Fams []Family
	// Body holds every family's samples, family after family (nil unless
	// asked for).
	Body []byte
	// Chunks[i] are Fams[i]'s samples compressed, in pieces of at most
	// ChunkSize bytes (nil unless asked for).
	Chunks [][]Chunk
}

// Family is one family of an Encoded.
type Family struct {
	Name string
	// Header is the family's header in the Encoded's kind (see
	// AppendGaugeHeader); Body[Start:End] are its samples.
	Header     []byte
	Start, End int
	// Account is the value of the family's first label when that label
	// is "account" (AccountFirst): the families of several accounts then
	// follow one another in account order.
	Account      string
	AccountFirst bool
}

// Wants remembers which kinds and encodings scrapers ask for, so that a
// poll encodes what the next scrapes will ask for and nothing else. A kind
// and encoding is wanted once it was asked for twice within wantedFor: a
// scraper asks every scrape interval, a one-off curl once, and an
// uncompressed body kept for nothing would cost over 100 MiB at 5,000
// deployments. Prometheus' own choice (OpenMetrics, gzip) is wanted from
// the start.
type Wants struct {
	mu sync.Mutex
	// last[k][gz] are the last two times asked, the latest first.
	last [NumKinds][2][2]time.Time
	now  func() time.Time
}

// wantedFor is how long a kind and encoding asked for stays wanted: longer
// than any scrape interval.
const wantedFor = 30 * time.Minute

// NewWants returns a Wants with OpenMetrics and gzip wanted.
func NewWants(now func() time.Time) *Wants {
	if now == nil {
		now = time.Now
	}
	w := &Wants{now: now}
	w.Note(KindOpenMetrics, true)
	w.Note(KindOpenMetrics, true)
	return w
}

// Note records a scrape in kind k, compressed or not.
func (w *Wants) Note(k Kind, gz bool) {
	if w == nil || k >= NumKinds {
		return
	}
	t := w.now()
	w.mu.Lock()
	l := &w.last[k][b2i(gz)]
	l[1], l[0] = l[0], t
	w.mu.Unlock()
}

// Wanted reports whether kind k, compressed or not, was asked for twice
// lately.
func (w *Wants) Wanted(k Kind, gz bool) bool {
	if w == nil || k >= NumKinds {
		return false
	}
	w.mu.Lock()
	older := w.last[k][b2i(gz)][1]
	w.mu.Unlock()
	return !older.IsZero() && w.now().Sub(older) < wantedFor
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Options configure NewHandler.
type Options struct {
	// Live are the families gathered at every scrape: the exporter's own
	// metrics, small and changing between scrapes.
	Live prometheus.Gatherer
	// Snapshots returns the sealed snapshots to serve, in the order of
	// their accounts (then collectors).
	Snapshots func() []Snapshot
	// All gathers everything decoded (Live and the snapshots merged): the
	// answer in the formats that are not cached.
	All prometheus.Gatherer
	// Wants records what scrapes ask for (may be nil).
	Wants *Wants
	// ErrorLog, Registry and MaxRequestsInFlight as promhttp's.
	ErrorLog            promhttp.Logger
	Registry            prometheus.Registerer
	MaxRequestsInFlight int
}

// NewHandler returns the /metrics handler: the formats Prometheus
// negotiates (text 0.0.4, OpenMetrics, delimited protobuf; gzip or not)
// are written from the snapshots' cached bytes plus the live families,
// encoded by expfmt at each scrape; the others by promhttp from All. Both
// give the same bytes for the same families as promhttp with
// ContinueOnError would; the in-flight limit covers both.
func NewHandler(o Options) (http.Handler, error) {
	errCnt := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "promhttp_metric_handler_errors_total",
		Help: "Total number of internal errors encountered by the promhttp metric handler.",
	}, []string{"cause"})
	if o.Registry != nil {
		errCnt.WithLabelValues("gathering")
		errCnt.WithLabelValues("encoding")
		if err := o.Registry.Register(errCnt); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, err
			}
			existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
			if !ok {
				return nil, fmt.Errorf("promhttp_metric_handler_errors_total is registered with another type")
			}
			errCnt = existing
		}
	}
	fallback, err := Handler(o.All, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, ErrorLog: o.ErrorLog, Registry: o.Registry})
	if err != nil {
		return nil, err
	}
	h := &handler{o: o, errCnt: errCnt, fallback: fallback}
	if o.MaxRequestsInFlight > 0 {
		h.sem = make(chan struct{}, o.MaxRequestsInFlight)
	}
	return h, nil
}

type handler struct {
	o        Options
	errCnt   *prometheus.CounterVec
	fallback http.Handler
	sem      chan struct{}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.sem != nil {
		select {
		case h.sem <- struct{}{}:
			defer func() { <-h.sem }()
		default:
			http.Error(w, fmt.Sprintf("Limit of concurrent requests reached (%d), try again later.", cap(h.sem)), http.StatusServiceUnavailable)
			return
		}
	}
	format := Negotiate(r.Header)
	kind, ok := KindOf(format)
	if !ok {
		h.fallback.ServeHTTP(w, r)
		return
	}
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if r.Method != http.MethodHead {
		// A HEAD (an uptime check) needs no body: were it a scrape, two
		// would keep an identity body at every poll for nothing.
		h.o.Wants.Note(kind, gz)
	}

	a := answerPool.Get().(*answer)
	defer a.release()
	if err := h.build(a, r, format, kind, gz); err != nil {
		httpError(w, err)
		return
	}
	hd := w.Header()
	hd.Add("Vary", "Accept")
	hd.Add("Vary", "Accept-Encoding")
	hd.Set("Content-Type", string(format))
	total := a.size()
	if r.Method == http.MethodHead {
		// Never compressed, as gzhttp answers HEAD on the promhttp path
		// (nginx mishandles compressed HEAD answers); the length is known
		// without the bytes, which the snapshots may hold compressed
		// only.
		hd.Set("Content-Length", strconv.FormatInt(total, 10))
		return
	}
	if gz && total < minCompressSize {
		gz = false
		// The snapshots may hold these kinds compressed only.
		if err := a.inflate(); err != nil {
			httpError(w, err)
			return
		}
	}
	if !gz {
		hd.Set("Content-Length", strconv.FormatInt(total, 10))
		for _, p := range a.pieces {
			if _, err := w.Write(a.bytes(p)); err != nil {
				return // the scraper went away
			}
		}
		return
	}
	chunks := a.compress()
	n := int64(len(gzipHeader) + len(finalBlock) + 8)
	for i := range chunks {
		n += int64(len(chunks[i].Data))
	}
	hd.Set("Content-Encoding", "gzip")
	hd.Set("Content-Length", strconv.FormatInt(n, 10))
	if _, err := w.Write(gzipHeader); err != nil {
		return
	}
	for i := range chunks {
		if _, err := w.Write(chunks[i].Data); err != nil {
			return
		}
	}
	_, _ = w.Write(finalBlock)
	_, _ = w.Write(gzipTrailer(chunks))
}

// minCompressSize: smaller answers go uncompressed (as gzhttp did).
const minCompressSize = 1024

// acceptsGzip reports whether an Accept-Encoding header accepts gzip:
// listed (or "*" without gzip listed) with a q-value above zero.
func acceptsGzip(h string) bool {
	star := false
	for _, part := range strings.Split(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if coding == "gzip" {
			return q > 0
		}
		star = q > 0
	}
	return star
}

func httpError(w http.ResponseWriter, err error) {
	http.Error(w, "An error has occurred while serving metrics:\n\n"+err.Error(), http.StatusInternalServerError)
}

// answer is one scrape's answer being assembled: pieces of cached bytes
// and of live bytes (encoded into live at this scrape).
type answer struct {
	kind   Kind
	pieces []piece
	live   bytes.Buffer
	groups []entry
	merge  []*dto.MetricFamily
	encs   []Encoded
	// the live pieces compressed (offsets into zbuf), and the chunks
	zbuf   bytes.Buffer
	zoff   [][2]int
	chunks []Chunk
}

// piece is either a cached sample run (enc ≥ 0: encs[enc]'s family fam)
// or live bytes live[lo:hi].
type piece struct {
	enc, fam int
	lo, hi   int
}

type entry struct {
	name string
	enc  int // -1: live
	fam  int
}

var answerPool = sync.Pool{New: func() any { return new(answer) }}

func (a *answer) release() {
	// Cleared, not only truncated: a pooled answer must not keep the
	// bytes of replaced snapshots alive, nor one left to the collector
	// (a pooled DEFLATE writer may still point at its zbuf).
	clear(a.encs)
	clear(a.merge)
	clear(a.chunks)
	clear(a.groups)
	const keep = 1 << 20 // do not pool a huge live buffer
	if a.live.Cap() > keep || a.zbuf.Cap() > keep {
		return
	}
	a.pieces, a.groups, a.merge, a.chunks, a.encs = a.pieces[:0], a.groups[:0], a.merge[:0], a.chunks[:0], a.encs[:0]
	a.live.Reset()
	a.zbuf.Reset()
	answerPool.Put(a)
}

func (a *answer) size() int64 {
	var n int64
	for _, p := range a.pieces {
		n += int64(p.hi - p.lo)
	}
	return n
}

func (a *answer) bytes(p piece) []byte {
	if p.enc < 0 {
		return a.live.Bytes()[p.lo:p.hi]
	}
	e := &a.encs[p.enc]
	return e.Body[p.lo:p.hi]
}

// liveEnd makes live[lo:] a piece.
func (a *answer) liveEnd(lo int) {
	if hi := a.live.Len(); hi > lo {
		// Adjacent live pieces are one.
		if n := len(a.pieces); n > 0 && a.pieces[n-1].enc < 0 && a.pieces[n-1].hi == lo {
			a.pieces[n-1].hi = hi
			return
		}
		a.pieces = append(a.pieces, piece{enc: -1, lo: lo, hi: hi})
	}
}

// inflate turns the cached pieces of snapshots that keep no identity
// body into live bytes, decompressed from their chunks: for an answer
// asked for compressed but small enough to go uncompressed.
func (a *answer) inflate() error {
	var z bytes.Buffer
	var zr io.ReadCloser
	for i, p := range a.pieces {
		if p.enc < 0 || a.encs[p.enc].Body != nil {
			continue
		}
		z.Reset()
		for _, c := range a.encs[p.enc].Chunks[p.fam] {
			z.Write(c.Data)
		}
		z.Write(finalBlock)
		if zr == nil {
			zr = flate.NewReader(&z)
		} else if err := zr.(flate.Resetter).Reset(&z, nil); err != nil {
			return err
		}
		lo := a.live.Len()
		if _, err := a.live.ReadFrom(zr); err != nil {
			return fmt.Errorf("decompress cached family %s: %w", a.encs[p.enc].Fams[p.fam].Name, err)
		}
		if n := a.live.Len() - lo; n != p.hi-p.lo {
			return fmt.Errorf("decompress cached family %s: %d bytes, want %d", a.encs[p.enc].Fams[p.fam].Name, n, p.hi-p.lo)
		}
		a.pieces[i] = piece{enc: -1, lo: lo, hi: a.live.Len()}
	}
	return nil
}

// compress returns the answer as chunks: cached runs as the snapshots
// compressed them, live runs compressed now.
func (a *answer) compress() []Chunk {
	live := a.live.Bytes()
	a.zoff = a.zoff[:0]
	for _, p := range a.pieces {
		if p.enc < 0 {
			start := a.zbuf.Len()
			appendCompressed(&a.zbuf, live[p.lo:p.hi])
			a.zoff = append(a.zoff, [2]int{start, a.zbuf.Len()})
		}
	}
	zb := a.zbuf.Bytes()
	j := 0
	for _, p := range a.pieces {
		if p.enc >= 0 {
			a.chunks = append(a.chunks, a.encs[p.enc].Chunks[p.fam]...)
			continue
		}
		o := a.zoff[j]
		j++
		a.chunks = append(a.chunks, newChunk(zb[o[0]:o[1]], live[p.lo:p.hi]))
	}
	return a.chunks
}

// build assembles the answer: the live families gathered now and the
// snapshots' families in kind k, merged by name as Manager.Gatherer
// merges them, so that the bytes equal promhttp's for the merged
// families.
func (h *handler) build(a *answer, r *http.Request, format expfmt.Format, k Kind, gz bool) error {
	a.kind = k
	live, gerr := h.o.Live.Gather()
	// Gathering errors are logged and counted once per scrape, as
	// promhttp does with ContinueOnError: the live ones and those of the
	// merges below.
	var gatherErrs prometheus.MultiError
	gatherErrs.Append(gerr)
	defer func() {
		if err := gatherErrs.MaybeUnwrap(); err != nil {
			if h.o.ErrorLog != nil {
				h.o.ErrorLog.Println("error gathering metrics:", err)
			}
			h.errCnt.WithLabelValues("gathering").Inc()
		}
	}()
	var snaps []Snapshot
	if h.o.Snapshots != nil {
		snaps = h.o.Snapshots()
	}
	fams := len(live)
	for _, s := range snaps {
		a.encs = append(a.encs, s.Encoded(k, gz))
		fams += len(a.encs[len(a.encs)-1].Fams)
	}
	if gerr != nil && fams == 0 {
		// Nothing gathered at all (snapshots without series included):
		// the error is the answer, as promhttp gives it.
		return gerr
	}
	var filter map[string]bool
	if r.URL != nil {
		if names := r.URL.Query()["name[]"]; len(names) > 0 {
			filter = map[string]bool{}
			for _, n := range names {
				filter[n] = true
			}
		}
	}
	// Every family once per source: live first, then the snapshots in
	// order, sorted stably by name (the order mergeFamilies sees).
	for i, mf := range live {
		a.groups = append(a.groups, entry{name: mf.GetName(), enc: -1, fam: i})
	}
	for e := range a.encs {
		for f := range a.encs[e].Fams {
			a.groups = append(a.groups, entry{name: a.encs[e].Fams[f].Name, enc: e, fam: f})
		}
	}
	slices.SortStableFunc(a.groups, func(x, y entry) int { return cmp.Compare(x.name, y.name) })

	enc := expfmt.NewEncoder(&a.live, format)
	encodeLive := func(mf *dto.MetricFamily) {
		lo := a.live.Len()
		if err := enc.Encode(mf); err != nil {
			if h.o.ErrorLog != nil {
				h.o.ErrorLog.Println("error encoding and sending metric family:", err)
			}
			h.errCnt.WithLabelValues("encoding").Inc()
		}
		a.liveEnd(lo)
	}
	for i := 0; i < len(a.groups); {
		j := i + 1
		for j < len(a.groups) && a.groups[j].name == a.groups[i].name {
			j++
		}
		g := a.groups[i:j]
		i = j
		if filter != nil && !filter[g[0].name] {
			// promhttp filters after gathering: a type clash in a
			// family left out is reported all the same.
			if len(g) > 1 && g[0].enc < 0 && live[g[0].fam].GetType() != dto.MetricType_GAUGE {
				a.merge = append(a.merge[:0], live[g[0].fam])
				for range g[1:] {
					a.merge = append(a.merge, &dto.MetricFamily{Name: live[g[0].fam].Name, Type: dto.MetricType_GAUGE.Enum()})
				}
				_, err := MergeSameFamily(a.merge)
				gatherErrs.Append(err)
			}
			continue
		}
		switch {
		case len(g) == 1 && g[0].enc < 0:
			encodeLive(live[g[0].fam])
		case concatenable(a.encs, g):
			a.appendCached(g)
		default:
			// The same family from a live source, or twice from one
			// account: merged decoded, as Manager.Gatherer does.
			a.merge = a.merge[:0]
			for _, e := range g {
				if e.enc < 0 {
					a.merge = append(a.merge, live[e.fam])
				} else if mf := snaps[e.enc].Family(e.name); mf != nil {
					a.merge = append(a.merge, mf)
				}
			}
			mf, err := MergeSameFamily(a.merge)
			gatherErrs.Append(err)
			if len(mf.Metric) > 0 {
				encodeLive(mf)
			}
		}
	}
	if k == KindOpenMetrics {
		lo := a.live.Len()
		if _, err := expfmt.FinalizeOpenMetrics(&a.live); err == nil {
			a.liveEnd(lo)
		}
	}
	return nil
}

// concatenable reports whether the group's families, all cached, can be
// written one after another: one family, or one per account, each
// account's series first by their account label.
func concatenable(encs []Encoded, g []entry) bool {
	if g[0].enc < 0 {
		return false
	}
	if len(g) == 1 {
		return true
	}
	for n, e := range g {
		if e.enc < 0 {
			return false
		}
		f := &encs[e.enc].Fams[e.fam]
		if !f.AccountFirst {
			return false
		}
		for _, o := range g[:n] {
			if encs[o.enc].Fams[o.fam].Account == f.Account {
				return false
			}
		}
	}
	return true
}

// appendCached writes a group of cached families: one header (the first
// account's), then every account's samples in account order; protobuf
// prefixes the merged message with its length.
func (a *answer) appendCached(g []entry) {
	fam := func(e entry) *Family { return &a.encs[e.enc].Fams[e.fam] }
	if len(g) > 1 {
		slices.SortStableFunc(g, func(x, y entry) int { return cmp.Compare(fam(x).Account, fam(y).Account) })
	}
	first := fam(g[0])
	lo := a.live.Len()
	if a.kind == KindProto {
		n := len(first.Header)
		for _, e := range g {
			n += fam(e).End - fam(e).Start
		}
		var pb [binary.MaxVarintLen64]byte
		a.live.Write(AppendFamilyPrefix(pb[:0], n))
	}
	a.live.Write(first.Header)
	a.liveEnd(lo)
	for _, e := range g {
		f := fam(e)
		a.pieces = append(a.pieces, piece{enc: e.enc, fam: e.fam, lo: f.Start, hi: f.End})
	}
}

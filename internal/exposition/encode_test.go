package exposition

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// formatOf is the Content-Type each kind answers Prometheus with.
var formatOf = map[Kind]expfmt.Format{
	KindText:        expfmt.NewFormat(expfmt.TypeTextPlain),
	KindOpenMetrics: expfmt.FmtOpenMetrics_1_0_0,
	KindProto:       expfmt.NewFormat(expfmt.TypeProtoDelim),
}

// encodeOurs encodes a gauge family with this package's encoders, as a
// snapshot does: header, then the samples.
func encodeOurs(k Kind, mf *dto.MetricFamily) []byte {
	var samples []byte
	var labels [][]byte
	for _, m := range mf.Metric {
		labels = labels[:0]
		for _, lp := range m.Label {
			labels = append(labels, AppendLabel(nil, k, lp.GetName(), lp.GetValue()))
		}
		samples = AppendGaugeSample(samples, k, mf.GetName(), labels, m.GetGauge().GetValue())
	}
	hdr := AppendGaugeHeader(nil, k, mf.GetName(), mf.GetHelp())
	var out []byte
	if k == KindProto {
		out = AppendFamilyPrefix(out, len(hdr)+len(samples))
	}
	return append(append(out, hdr...), samples...)
}

// encodeTheirs is expfmt's encoding of the same family.
func encodeTheirs(t testing.TB, k Kind, mf *dto.MetricFamily) []byte {
	var buf bytes.Buffer
	require.NoError(t, expfmt.NewEncoder(&buf, formatOf[k]).Encode(mf))
	return buf.Bytes()
}

func gaugeFamily(name, help string, labelNames []string, series [][]string, values []float64) *dto.MetricFamily {
	mf := &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum()}
	for i, vals := range series {
		m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(values[i])}}
		for j, n := range labelNames {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(n), Value: proto.String(vals[j])})
		}
		mf.Metric = append(mf.Metric, m)
	}
	return mf
}

func TestEncodersMatchExpfmt(t *testing.T) {
	special := []float64{0, math.Copysign(0, -1), 1, -1, 2, -2, 0.5, 1e21, 1e-7, 123456789, 1.5e300, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 3.14159, -1e6, 1e6, 100, 4.2e9}
	cases := []struct {
		name   string
		fam    *dto.MetricFamily
		labels int
	}{
		{"no labels", gaugeFamily("ece_up", "Up.", nil, [][]string{{}}, []float64{1}), 0},
		{"escapes in help", gaugeFamily("ece_x", "a \\ b \n c \"quoted\"", []string{"account"}, [][]string{{"a"}}, []float64{0}), 1},
		{"escapes in values", gaugeFamily("ece_x", "h", []string{"account", "name"},
			[][]string{{"a", `x"y`}, {"a", "back\\slash"}, {"a", "new\nline"}, {"a", "ünïcödé ✓"}, {"a", ""}}, []float64{1, 2, 3, 4, 5}), 2},
		{"long values", gaugeFamily("ece_x", strings.Repeat("help ", 100), []string{"account", "id"},
			[][]string{{"a", strings.Repeat("v", 300)}}, []float64{42}), 2},
	}
	// Every special value, once per kind.
	var specials [][]string
	for i := range special {
		specials = append(specials, []string{"a", strings.Repeat("x", i)})
	}
	cases = append(cases, struct {
		name   string
		fam    *dto.MetricFamily
		labels int
	}{"special values", gaugeFamily("ece_v", "Values.", []string{"account", "n"}, specials, special), 2})
	for _, tc := range cases {
		for k := Kind(0); k < NumKinds; k++ {
			t.Run(tc.name+"/"+k.String(), func(t *testing.T) {
				require.Equal(t, string(encodeTheirs(t, k, tc.fam)), string(encodeOurs(k, tc.fam)))
			})
		}
	}
}

// TestEncodersMatchExpfmtRandom compares random families, every kind.
func TestEncodersMatchExpfmtRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		mf := randomFamily(r)
		for k := Kind(0); k < NumKinds; k++ {
			require.Equal(t, string(encodeTheirs(t, k, mf)), string(encodeOurs(k, mf)), "family %d, %s", i, k)
		}
	}
}

// randomFamily is a gauge family with random label values (any runes,
// escapes included) and values (integers, fractions, specials).
func randomFamily(r *rand.Rand) *dto.MetricFamily {
	nl := r.IntN(5)
	names := []string{"account"}
	for j := 1; j < nl; j++ {
		names = append(names, "l"+string(rune('a'+j)))
	}
	if nl == 0 {
		names = nil
	}
	n := 1 + r.IntN(20)
	var series [][]string
	var values []float64
	for s := 0; s < n; s++ {
		var vals []string
		for range names {
			vals = append(vals, randomString(r))
		}
		series = append(series, vals)
		values = append(values, randomValue(r))
	}
	return gaugeFamily("ece_rand_"+string(rune('a'+r.IntN(26))), randomString(r), names, series, values)
}

func randomString(r *rand.Rand) string {
	alphabet := []rune("abcXYZ019 _-./\\\"\n\t{}=,é✓😀")
	var b strings.Builder
	for i := r.IntN(12); i > 0; i-- {
		b.WriteRune(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randomValue(r *rand.Rand) float64 {
	switch r.IntN(6) {
	case 0:
		return float64(r.IntN(2000) - 1000)
	case 1:
		return r.NormFloat64() * 1e6
	case 2:
		return []float64{0, 1, -1, math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(6)]
	case 3:
		return math.Float64frombits(r.Uint64())
	case 4:
		return float64(r.Uint64())
	}
	return r.Float64()
}

// FuzzEncoders checks that one series with any label value, help text and
// value encodes as expfmt encodes it, in every kind.
func FuzzEncoders(f *testing.F) {
	f.Add("help", "value", 1.0)
	f.Add("a\\b\n\"c\"", "x\"y\\z\n", math.Inf(-1))
	f.Add("", "", 1e21)
	f.Add("ü", "\xff", math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, help, value string, v float64) {
		if !utf8Valid(help) || !utf8Valid(value) {
			t.Skip("snapshots repair invalid UTF-8 before encoding")
		}
		mf := gaugeFamily("ece_fuzz", help, []string{"account", "name"}, [][]string{{"acc", value}}, []float64{v})
		for k := Kind(0); k < NumKinds; k++ {
			require.Equal(t, string(encodeTheirs(t, k, mf)), string(encodeOurs(k, mf)), "%s", k)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		format expfmt.Format
		kind   Kind
		ok     bool
	}{
		{expfmt.FmtText, KindText, true},
		{expfmt.NewFormat(expfmt.TypeTextPlain), KindText, true},
		{expfmt.FmtOpenMetrics_1_0_0, KindOpenMetrics, true},
		{expfmt.FmtOpenMetrics_0_0_1, KindOpenMetrics, true},
		{expfmt.FmtProtoDelim, KindProto, true},
		{expfmt.Format(string(expfmt.FmtOpenMetrics_1_0_0) + "; escaping=allow-utf-8"), KindOpenMetrics, true},
		{expfmt.Format(string(expfmt.FmtText) + "; escaping=values"), KindText, true},
		{expfmt.Format(string(expfmt.FmtText) + "; escaping=dots"), 0, false},
		{expfmt.FmtProtoText, 0, false},
		{expfmt.FmtProtoCompact, 0, false},
	} {
		k, ok := KindOf(tc.format)
		require.Equal(t, tc.ok, ok, tc.format)
		if ok {
			require.Equal(t, tc.kind, k, tc.format)
		}
	}
}

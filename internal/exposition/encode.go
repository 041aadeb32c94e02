package exposition

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Kind is an exposition format whose bytes the exporter caches: the
// formats Prometheus negotiates. Every other format (the protobuf text
// forms, dots escaping) is served by promhttp from decoded families.
type Kind uint8

const (
	// KindText is the Prometheus text format 0.0.4.
	KindText Kind = iota
	// KindOpenMetrics is OpenMetrics text 1.0.0 and 0.0.1 (the same bytes).
	KindOpenMetrics
	// KindProto is delimited protobuf (io.prometheus.client.MetricFamily).
	KindProto
	// NumKinds is the number of kinds.
	NumKinds
)

func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindOpenMetrics:
		return "openmetrics"
	case KindProto:
		return "protobuf"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// KindOf returns the cached kind that answers format f, if any. Names
// are never escaped by the cached kinds: every name the collectors expose
// is a legacy Prometheus name, which the underscores, values and
// allow-utf-8 schemes leave as it is; dots escaping doubles underscores,
// so it goes the decoded way.
func KindOf(f expfmt.Format) (Kind, bool) {
	var k Kind
	switch f.FormatType() {
	case expfmt.TypeTextPlain:
		k = KindText
	case expfmt.TypeOpenMetrics:
		k = KindOpenMetrics
	case expfmt.TypeProtoDelim:
		k = KindProto
	default:
		return 0, false
	}
	if f.ToEscapingScheme() == model.DotsEscaping {
		return 0, false
	}
	return k, true
}

// The escapers of expfmt: HELP text in the 0.0.4 format escapes
// backslashes and new lines, OpenMetrics HELP and every label value
// escape double quotes too.
var (
	helpEscaper   = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	quotedEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// escape appends s escaped: a replacer only when s needs it.
func appendEscaped(b []byte, s string, quote bool) []byte {
	special := "\\\n"
	if quote {
		special = "\\\n\""
	}
	if !strings.ContainsAny(s, special) {
		return append(b, s...)
	}
	if quote {
		return append(b, quotedEscaper.Replace(s)...)
	}
	return append(b, helpEscaper.Replace(s)...)
}

// AppendGaugeHeader appends the header of a gauge family named name (a
// legacy metric name) in kind k: the HELP and TYPE lines of the text
// formats, or the name, help and type fields of a protobuf MetricFamily
// (without its length prefix and metric fields).
func AppendGaugeHeader(b []byte, k Kind, name, help string) []byte {
	if k == KindProto {
		b = appendProtoString(b, 1, name)
		b = appendProtoString(b, 2, help)
		return append(b, 3<<3, 1) // type: GAUGE
	}
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, help, k == KindOpenMetrics)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	return append(b, " gauge\n"...)
}

// AppendLabel appends one label pair (a legacy label name and any UTF-8
// value) as the sample encoders below take it: `name="value"` for the
// text formats, a Metric's label field for protobuf.
func AppendLabel(b []byte, k Kind, name, value string) []byte {
	if k == KindProto {
		n := protoStringLen(1, name) + protoStringLen(2, value)
		b = append(b, 1<<3|2)
		b = binary.AppendUvarint(b, uint64(n))
		b = appendProtoString(b, 1, name)
		return appendProtoString(b, 2, value)
	}
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// AppendGaugeSample appends one series of a gauge family: a sample line
// of the text formats (name, the label pairs AppendLabel encoded, the
// value), or a MetricFamily's metric field for protobuf (name unused).
func AppendGaugeSample(b []byte, k Kind, name string, labels [][]byte, v float64) []byte {
	if k == KindProto {
		n := 11 // the gauge field: tag, length, the value's tag and 8 bytes
		for _, l := range labels {
			n += len(l)
		}
		b = append(b, 4<<3|2)
		b = binary.AppendUvarint(b, uint64(n))
		for _, l := range labels {
			b = append(b, l...)
		}
		b = append(b, 2<<3|2, 9, 1<<3|1)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = append(b, name...)
	for i, l := range labels {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, l...)
	}
	if len(labels) > 0 {
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = AppendFloat(b, k == KindOpenMetrics, v)
	return append(b, '\n')
}

// AppendFloat appends v as expfmt writes a sample value: OpenMetrics
// writes integers with a ".0".
func AppendFloat(b []byte, openMetrics bool, v float64) []byte {
	switch {
	case v == 1:
		if openMetrics {
			return append(b, "1.0"...)
		}
		return append(b, '1')
	case v == 0:
		if openMetrics {
			return append(b, "0.0"...)
		}
		return append(b, '0')
	case v == -1:
		if openMetrics {
			return append(b, "-1.0"...)
		}
		return append(b, "-1"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if openMetrics && !bytes.ContainsAny(b[start:], "e.") {
		b = append(b, ".0"...)
	}
	return b
}

// AppendFamilyPrefix appends the length prefix of a delimited protobuf
// MetricFamily whose encoded fields are n bytes long.
func AppendFamilyPrefix(b []byte, n int) []byte {
	return binary.AppendUvarint(b, uint64(n))
}

func appendProtoString(b []byte, field int, s string) []byte {
	b = append(b, byte(field<<3|2))
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func protoStringLen(field int, s string) int {
	_ = field // one-byte tags: fields 1 to 15
	return 1 + uvarintLen(uint64(len(s))) + len(s)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

package secret

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// sentinel is a value no output may contain.
const sentinel = "sentinel-3f9c2a71-not-a-real-key"

// TestSecretNeverPrints: moved from config (its Secret) and eceapi (its
// former Secret, TestSecretPrinting), now the one type both use.
func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := Secret(sentinel)
	assert.Equal(t, sentinel, s.Reveal())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%10s", "%-10v", "%T"} {
		out := fmt.Sprintf(verb, s)
		assert.NotContains(t, out, sentinel, verb)
		if verb != "%T" {
			assert.Contains(t, out, Redacted, verb)
		}
	}
	assert.Equal(t, `"<secret>"`, fmt.Sprintf("%q", s))
	assert.Equal(t, "<secret>", fmt.Sprint(s))
	assert.Equal(t, "<secret>", s.String())
	assert.Equal(t, "<secret>", s.GoString())

	// Inside structs, slices, maps and pointers.
	type holder struct {
		S Secret
		P *Secret
	}
	h := holder{S: s, P: &s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		for _, v := range []any{h, &h, []Secret{s}, map[string]Secret{"k": s}} {
			assert.NotContains(t, fmt.Sprintf(verb, v), sentinel, verb)
		}
	}

	j, err := json.Marshal(h)
	require.NoError(t, err)
	assert.JSONEq(t, `{"S":"<secret>","P":"<secret>"}`, string(j))

	y, err := yaml.Marshal(map[string]Secret{"k": s})
	require.NoError(t, err)
	assert.Equal(t, "k: <secret>\n", string(y))

	txt, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "<secret>", string(txt))

	assert.True(t, Secret("").IsZero())
	assert.False(t, s.IsZero())
}

// TestSecretPrinting: the assertions of eceapi's former Secret.
func TestSecretPrinting(t *testing.T) {
	t.Parallel()
	s := Secret(sentinel)
	for _, out := range []string{
		fmt.Sprintf("%v %s %q %x %X %#v %+v %d %10s %T", s, s, s, s, s, s, s, s, s, s),
		fmt.Sprint(s), fmt.Sprintln(s), s.String(), s.GoString(),
		fmt.Sprintf("%v %+v %#v", struct{ K Secret }{s}, &struct{ K Secret }{s}, []Secret{s}),
	} {
		assert.NotContains(t, out, sentinel)
	}
	b, err := json.Marshal(struct{ K Secret }{s})
	require.NoError(t, err)
	assert.JSONEq(t, `{"K":"<secret>"}`, string(b))
	y, err := yaml.Marshal(struct{ K Secret }{s})
	require.NoError(t, err)
	assert.Equal(t, "k: <secret>\n", string(y))
	txt, err := s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "<secret>", string(txt))
	assert.Equal(t, sentinel, s.Reveal())
	assert.False(t, s.IsZero())
	assert.True(t, Secret("").IsZero())
}

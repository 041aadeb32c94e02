package config

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	s := Secret(sentinel)
	assert.Equal(t, sentinel, s.Reveal())

	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%10s", "%-10v", "%T"} {
		out := fmt.Sprintf(verb, s)
		assert.NotContains(t, out, sentinel, verb)
		if verb != "%T" {
			assert.Contains(t, out, redacted, verb)
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

package exposition

import (
	"bytes"
	"compress/gzip"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCRC32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, sizes := range [][]int{{0}, {1}, {1, 1}, {0, 5, 0}, {100, 1000, 10000}, {65536, 3, 70000}, {7, 1 << 20}} {
		var all []byte
		var crc uint32
		for _, n := range sizes {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			all = append(all, p...)
			crc = crc32Combine(crc, newChunk(nil, p))
		}
		require.Equal(t, crc32.ChecksumIEEE(all), crc, "sizes %v", sizes)
	}
}

// writeMember writes chunks as one gzip member, as the handler does.
func writeMember(chunks []Chunk) []byte {
	var b bytes.Buffer
	b.Write(gzipHeader)
	for _, c := range chunks {
		b.Write(c.Data)
	}
	b.Write(finalBlock)
	b.Write(gzipTrailer(chunks))
	return b.Bytes()
}

// TestChunksAreOneMember: chunks compressed apart, written one after
// another, are one gzip member that decodes to the bytes concatenated,
// with the right CRC and size (a reader that stops after the first member
// sees everything).
func TestChunksAreOneMember(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	parts := [][]byte{[]byte("# HELP a b\n"), bytes.Repeat([]byte(`ece_x{account="a",id="0123456789abcdef"} 1`+"\n"), 5000), {}, {'x'}}
	rnd := make([]byte, 200000)
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	parts = append(parts, rnd, []byte("# EOF\n"))
	var chunks []Chunk
	var want []byte
	for _, p := range parts {
		chunks = append(chunks, Compress(p))
		want = append(want, p...)
	}
	body := writeMember(chunks)
	zr, err := gzip.NewReader(bytes.NewReader(body))
	require.NoError(t, err)
	zr.Multistream(false)
	got, err := io.ReadAll(zr)
	require.NoError(t, err, "one member, CRC and size right")
	require.Equal(t, want, got)
	_, err = zr.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF)
	require.NoError(t, zr.Reset(bytes.NewReader(body)))
	require.NoError(t, zr.Close())

	// A corrupted chunk CRC is caught by the reader: the trailer is checked.
	chunks[1].CRC ^= 1
	zr, err = gzip.NewReader(bytes.NewReader(writeMember(chunks)))
	require.NoError(t, err)
	_, err = io.ReadAll(zr)
	require.ErrorIs(t, err, gzip.ErrChecksum)
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                       false,
		"gzip":                   true,
		"GZIP":                   true,
		"gzip, deflate, br":      true,
		"deflate":                false,
		"gzip;q=0":               false,
		"gzip; q=0.0":            false,
		"gzip;q=0.5":             true,
		"*":                      true,
		"*;q=0":                  false,
		"*, gzip;q=0":            false,
		"identity;q=1, *;q=0.1":  true,
		"br;q=1.0, gzip;q=0.8":   true,
		"zstd":                   false,
		"x-gzip":                 false,
		"gzip;q=1, identity;q=0": true,
	} {
		require.Equal(t, want, acceptsGzip(h), "Accept-Encoding: %q", h)
	}
}

package exposition

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Chunk is a piece of an answer compressed on its own: raw DEFLATE blocks
// ending on a byte boundary (a sync flush), never final. Chunks written
// one after another inside one gzip member are one valid DEFLATE stream
// (RFC 1951: a block may start on any byte boundary, and a chunk never
// refers back before its own start), so an answer is assembled from
// chunks compressed once per poll plus the few live bytes compressed per
// scrape, and still is one ordinary gzip member that every client reads
// (some stop after the first of several concatenated members).
type Chunk struct {
	Data []byte
	// CRC is the CRC-32 (IEEE) of the uncompressed bytes, N their length
	// and shift x^(8N) mod the CRC polynomial: what combining the CRC of
	// what precedes with this one needs.
	CRC   uint32
	N     int64
	shift uint32
}

// ChunkSize bounds the uncompressed bytes of a cached chunk: a snapshot
// compressed for gzip scrapes only is encoded and compressed this much at
// a time, so that its identity body (over 100 MiB at 5,000 deployments)
// never exists whole. Cutting a family's samples into chunks of 1 MiB
// costs a few bytes per chunk (the DEFLATE window is 32 KiB anyway).
const ChunkSize = 1 << 20

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// Compress returns p compressed as a chunk, at the fastest level: at
// 5,000 deployments an answer is tens of megabytes, and a slower level
// would cost more CPU per poll for an answer only a little smaller.
func Compress(p []byte) Chunk {
	var buf bytes.Buffer
	buf.Grow(len(p)/6 + 64)
	appendCompressed(&buf, p)
	data := buf.Bytes()
	if cap(data) > len(data)+len(data)/8 {
		// Kept until the next poll: without the buffer's spare room.
		data = bytes.Clone(data)
	}
	return newChunk(data, p)
}

func appendCompressed(buf *bytes.Buffer, p []byte) {
	fw := flaters.Get().(*flate.Writer)
	fw.Reset(buf)
	_, _ = fw.Write(p) // a bytes.Buffer does not fail
	_ = fw.Flush()
	flaters.Put(fw)
}

func newChunk(data, p []byte) Chunk {
	return Chunk{Data: data, CRC: crc32.ChecksumIEEE(p), N: int64(len(p)), shift: x2nmodp(int64(len(p)), 3)}
}

// gzipHeader is a gzip member header without name or time, the deflate
// method, the fastest-compression flag and an unknown OS, as Go writes it.
var gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}

// finalBlock ends a DEFLATE stream after a sync flush: an empty final
// block with fixed Huffman codes.
var finalBlock = []byte{0x03, 0x00}

// gzipTrailer returns the trailer of a member whose chunks are cs.
func gzipTrailer(cs []Chunk) []byte {
	var crc uint32
	var n int64
	for i := range cs {
		crc = crc32Combine(crc, cs[i])
		n += cs[i].N
	}
	b := binary.LittleEndian.AppendUint32(nil, crc)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// The CRC-32 combination of zlib 1.2.12 and later: the CRC of A then B is
// the CRC of A multiplied by x^(8·len(B)) modulo the polynomial, plus the
// CRC of B, all in GF(2) with the reflected bit order of CRC-32.
const crcPoly = 0xedb88320

// multmodp returns a·b modulo the CRC polynomial; a must not be zero.
func multmodp(a, b uint32) uint32 {
	m := uint32(1) << 31
	var p uint32
	for {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				return p
			}
		}
		m >>= 1
		if b&1 != 0 {
			b = b>>1 ^ crcPoly
		} else {
			b >>= 1
		}
	}
}

// x2n[k] is x^(2^k) modulo the polynomial.
var x2n = func() (t [32]uint32) {
	p := uint32(1) << 30 // x^1
	t[0] = p
	for k := 1; k < 32; k++ {
		p = multmodp(p, p)
		t[k] = p
	}
	return t
}()

// x2nmodp returns x^(n·2^k) modulo the polynomial.
func x2nmodp(n int64, k uint) uint32 {
	p := uint32(1) << 31 // x^0
	for n > 0 {
		if n&1 != 0 {
			p = multmodp(x2n[k&31], p)
		}
		n >>= 1
		k++
	}
	return p
}

// crc32Combine returns the CRC-32 of the bytes whose CRC is crc followed
// by c's bytes.
func crc32Combine(crc uint32, c Chunk) uint32 {
	if c.N == 0 {
		return crc
	}
	return multmodp(c.shift, crc) ^ c.CRC
}

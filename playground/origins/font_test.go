package origins

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// A reader of sfnt files written for these tests, independently of
// font.go: it reads what a sanitizer reads, from the bytes alone.
// https://learn.microsoft.com/typography/opentype/spec/otff

type sfntFile struct {
	data   []byte
	tables map[string][]byte
}

func u16(b []byte, off int) int    { return int(binary.BigEndian.Uint16(b[off:])) }
func i16(b []byte, off int) int    { return int(int16(binary.BigEndian.Uint16(b[off:]))) }
func u32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }

// sumWords is the OpenType checksum: the padded big-endian uint32s, summed.
func sumWords(b []byte) uint32 {
	var sum uint32
	for len(b) > 0 {
		var w [4]byte
		n := copy(w[:], b)
		sum += binary.BigEndian.Uint32(w[:])
		b = b[n:]
	}
	return sum
}

// parseSFNT reads the table directory and checks what a sanitizer checks
// of it: version, binary-search fields, sorted unique tags, tables inside
// the file, 4-byte aligned and not overlapping, and each table's checksum.
func parseSFNT(data []byte) (*sfntFile, error) {
	if len(data) < 12 {
		return nil, fmt.Errorf("%d bytes: too short for an offset table", len(data))
	}
	if v := u32(data, 0); v != 0x00010000 {
		return nil, fmt.Errorf("sfntVersion %#x, want 0x00010000 (TrueType)", v)
	}
	n := u16(data, 4)
	pow, log := 1, 0
	for pow*2 <= n {
		pow, log = pow*2, log+1
	}
	if u16(data, 6) != pow*16 || u16(data, 8) != log || u16(data, 10) != n*16-pow*16 {
		return nil, fmt.Errorf("searchRange %d, entrySelector %d, rangeShift %d wrong for %d tables", u16(data, 6), u16(data, 8), u16(data, 10), n)
	}
	if len(data) < 12+16*n {
		return nil, fmt.Errorf("the table directory runs past the end")
	}
	f := &sfntFile{data: data, tables: map[string][]byte{}}
	prevTag, prevEnd := "", 12+16*n
	for i := range n {
		rec := data[12+16*i:]
		tag := string(rec[:4])
		sum, off, length := u32(rec, 4), int(u32(rec, 8)), int(u32(rec, 12))
		if tag <= prevTag {
			return nil, fmt.Errorf("table %q after %q: tags must be sorted and unique", tag, prevTag)
		}
		if off%4 != 0 || off < prevEnd || off+length > len(data) {
			return nil, fmt.Errorf("table %q at %d+%d: misaligned, overlapping or past the end (%d bytes)", tag, off, length, len(data))
		}
		table := data[off : off+length]
		if tag == "head" {
			// head's checksum is computed with checkSumAdjustment as 0.
			table = bytes.Clone(table)
			binary.BigEndian.PutUint32(table[8:], 0)
		}
		if got := sumWords(table); got != sum {
			return nil, fmt.Errorf("table %q: checksum %#x, the directory says %#x", tag, got, sum)
		}
		f.tables[tag] = data[off : off+length]
		prevTag, prevEnd = tag, off+length
	}
	return f, nil
}

// glyphFor maps a code point to a glyph id through the cmap's format 4
// subtable for platform 3, encoding 1.
func (f *sfntFile) glyphFor(r rune) (int, error) {
	cmap := f.tables["cmap"]
	for i := range u16(cmap, 2) {
		rec := cmap[4+8*i:]
		if u16(rec, 0) != 3 || u16(rec, 2) != 1 {
			continue
		}
		sub := cmap[u32(rec, 4):]
		if u16(sub, 0) != 4 {
			return 0, fmt.Errorf("cmap 3/1 subtable of format %d, want 4", u16(sub, 0))
		}
		segX2 := u16(sub, 6)
		ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
		if u16(sub, ends+segX2-2) != 0xFFFF {
			return 0, fmt.Errorf("cmap format 4: the last segment does not end at 0xFFFF")
		}
		for s := 0; s < segX2; s += 2 {
			if int(r) > u16(sub, ends+s) {
				continue
			}
			if int(r) < u16(sub, starts+s) {
				return 0, nil
			}
			if u16(sub, ranges+s) != 0 {
				return 0, fmt.Errorf("cmap format 4: idRangeOffset not handled by this reader")
			}
			return (int(r) + u16(sub, deltas+s)) & 0xFFFF, nil
		}
		return 0, nil
	}
	return 0, fmt.Errorf("no cmap subtable for platform 3, encoding 1")
}

// advance is glyph g's advance width, from hmtx (and hhea's
// numberOfHMetrics).
func (f *sfntFile) advance(g int) int {
	nh := u16(f.tables["hhea"], 34)
	return u16(f.tables["hmtx"], 4*min(g, nh-1))
}

func TestFontParses(t *testing.T) {
	data := fontTTF()
	f, err := parseSFNT(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"head", "hhea", "maxp", "OS/2", "hmtx", "cmap", "loca", "glyf", "name", "post"} {
		if _, ok := f.tables[tag]; !ok {
			t.Errorf("no %s table", tag)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	head := f.tables["head"]
	if len(head) != 54 || u32(head, 12) != 0x5F0F3CF5 {
		t.Fatalf("head: %d bytes, magic %#x", len(head), u32(head, 12))
	}
	if got := sumWords(data); got != 0xB1B0AFBA {
		t.Errorf("the whole file sums to %#x, want 0xB1B0AFBA (head.checkSumAdjustment)", got)
	}
	upem := u16(head, 18)

	numGlyphs := u16(f.tables["maxp"], 4)
	if numGlyphs != 2 {
		t.Errorf("maxp.numGlyphs %d, want 2 (.notdef and X)", numGlyphs)
	}
	g, err := f.glyphFor([]rune(FontGlyph)[0])
	if err != nil || g != 1 {
		t.Errorf("cmap maps %q to glyph %d (%v), want 1", FontGlyph, g, err)
	}
	if g, _ := f.glyphFor('Y'); g != 0 {
		t.Errorf("cmap maps 'Y' to glyph %d, want 0 (.notdef)", g)
	}
	if got, want := f.advance(1), FontAdvanceRatio*upem; got != want {
		t.Errorf("glyph 1 advances %d units, want %d (%d em at %d units per em)", got, want, FontAdvanceRatio, upem)
	}
	if got := u16(f.tables["hhea"], 10); got != f.advance(1) {
		t.Errorf("hhea.advanceWidthMax %d, want %d", got, f.advance(1))
	}

	// loca (short, as head.indexToLocFormat says) bounds each glyph
	// within glyf, and each glyph's header agrees with maxp.
	if u16(head, 50) != 0 {
		t.Fatalf("indexToLocFormat %d, this reader reads short loca", u16(head, 50))
	}
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	if len(loca) != 2*(numGlyphs+1) {
		t.Fatalf("loca: %d bytes, want %d", len(loca), 2*(numGlyphs+1))
	}
	maxPoints, maxContours := u16(f.tables["maxp"], 6), u16(f.tables["maxp"], 8)
	for i := range numGlyphs {
		start, end := 2*u16(loca, 2*i), 2*u16(loca, 2*i+2)
		if start > end || end > len(glyf) {
			t.Fatalf("glyph %d at %d..%d of a %d-byte glyf", i, start, end, len(glyf))
		}
		gl := glyf[start:end]
		contours := i16(gl, 0)
		if contours <= 0 || contours > maxContours {
			t.Errorf("glyph %d: %d contours, want 1..%d", i, contours, maxContours)
			continue
		}
		if xMin, xMax := i16(gl, 2), i16(gl, 6); xMin < 0 || xMax > f.advance(i) {
			t.Errorf("glyph %d: x from %d to %d, outside its advance %d", i, xMin, xMax, f.advance(i))
		}
		if points := u16(gl, 10+2*(contours-1)) + 1; points > maxPoints {
			t.Errorf("glyph %d: %d points, maxp says at most %d", i, points, maxPoints)
		}
	}

	// The name table names the family, for Windows in US English.
	name := f.tables["name"]
	var family string
	for i := range u16(name, 2) {
		rec := name[6+12*i:]
		if u16(rec, 0) == 3 && u16(rec, 6) == 1 {
			s := name[u16(name, 4)+u16(rec, 10):][:u16(rec, 8)]
			for j := 0; j < len(s); j += 2 {
				family += string(rune(u16(s, j)))
			}
		}
	}
	if family != FontFamily {
		t.Errorf("name ID 1 is %q, want %q", family, FontFamily)
	}
}

// The font's bytes are the same on every build: its dates are fixed.
func TestFontIsDeterministic(t *testing.T) {
	if !bytes.Equal(buildFont(), buildFont()) {
		t.Error("two builds of the font differ")
	}
}

// The reader above can fail: a flipped byte breaks a checksum.
func TestFontReaderCatchesCorruption(t *testing.T) {
	data := bytes.Clone(fontTTF())
	data[len(data)-5] ^= 0xFF // inside the last table
	if _, err := parseSFNT(data); err == nil {
		t.Error("a corrupted font parsed")
	}
}

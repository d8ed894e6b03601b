package origins

import (
	"encoding/binary"
	"sort"
	"sync"
	"time"
	"unicode/utf16"
)

// The api origin's font door (GET /{session}/font.ttf) serves a TrueType
// font that corslab's own code builds here, byte by byte: no font data is
// copied from anywhere. It has two glyphs, .notdef and FontGlyph, and
// FontGlyph is FontAdvanceRatio em wide, far wider than any normal
// font's "X": so a page can tell whether the font applied by measuring
// the width of "X" in font-family "corslab-door, monospace". At 16px, it
// is 48px wide when the font loaded, and about 8px when the browser fell
// back to monospace (because CORS refused the font, say: fonts are always
// fetched in CORS mode, https://www.w3.org/TR/css-fonts-4/#font-fetching-requirements;
// WebKit departs, fetching fonts in no-cors mode and using them from any
// origin).
//
// The layout is the OpenType spec's, whose sections are linked from each
// table below: https://learn.microsoft.com/typography/opentype/spec/otff
// The tables are the ones browsers' font sanitizers want (OTS in Chromium
// and Firefox, FreeType under WebKitGTK): head, hhea, maxp, OS/2, hmtx,
// cmap, loca, glyf, name and post.

const (
	// FontFamily is the font's family name, in its name table. Pages
	// name the font in @font-face themselves; this is what a user
	// agent would show.
	FontFamily = "corslab door"
	// FontGlyph is the one character the font draws.
	FontGlyph = "X"
	// FontAdvanceRatio is FontGlyph's advance width in em: "X" at 16px
	// is 16 × FontAdvanceRatio px wide in this font.
	FontAdvanceRatio = 3
)

// Font metrics, in font units.
const (
	fontUnitsPerEm = 1000
	fontAscender   = 800
	fontDescender  = -200
	notdefAdvance  = 500
	glyphAdvance   = FontAdvanceRatio * fontUnitsPerEm
)

// fontTTF is the font's file, built once.
var fontTTF = sync.OnceValue(buildFont)

// A glyph is a simple TrueType glyph: closed contours of on-curve points
// (so straight lines only), and its advance width.
type glyph struct {
	advance  int
	contours [][]point
}

type point struct{ x, y int }

// fontGlyphs are the font's glyphs, by glyph id: 0 is .notdef, which
// fonts must have (an empty box, by custom), and 1 is FontGlyph, drawn as
// a wide X across its whole advance so that, if the font applies, the
// page shows it.
func fontGlyphs() []glyph {
	box := func(x0, y0, x1, y1 int, clockwise bool) []point {
		if clockwise { // TrueType fills clockwise contours...
			return []point{{x0, y0}, {x0, y1}, {x1, y1}, {x1, y0}}
		}
		return []point{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}} // ...and a counter-clockwise one cuts a hole.
	}
	// The X: twelve points, clockwise (up the left, along the top, down
	// the right), from the outer corner of its bottom left foot.
	const l, r, b, t, w = 100, glyphAdvance - 100, 0, 700, 220
	const mx, my = (l + r) / 2, (b + t) / 2
	x := []point{
		{l, b}, {mx - w, my}, {l, t}, {l + w, t}, {mx, my + 100}, {r - w, t},
		{r, t}, {mx + w, my}, {r, b}, {r - w, b}, {mx, my - 100}, {l + w, b},
	}
	return []glyph{
		{notdefAdvance, [][]point{box(50, 0, 450, 700, true), box(100, 50, 400, 650, false)}},
		{glyphAdvance, [][]point{x}},
	}
}

// fontCharCode is FontGlyph's code point, which cmap maps to glyph 1.
const fontCharCode = 'X'

// buildFont assembles the font file.
func buildFont() []byte {
	glyphs := fontGlyphs()
	glyf, loca, bbox, maxPoints, maxContours := glyfAndLoca(glyphs)
	tables := map[string][]byte{
		"head": headTable(bbox),
		"hhea": hheaTable(glyphs, bbox),
		"maxp": maxpTable(len(glyphs), maxPoints, maxContours),
		"OS/2": os2Table(glyphs),
		"hmtx": hmtxTable(glyphs),
		"cmap": cmapTable(),
		"loca": loca,
		"glyf": glyf,
		"name": nameTable(),
		"post": postTable(),
	}
	font := sfnt(tables)
	// head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA:
	// https://learn.microsoft.com/typography/opentype/spec/head
	adj := 0xB1B0AFBA - checksum(font)
	binary.BigEndian.PutUint32(font[headOffset(font)+8:], adj)
	return font
}

// sfnt lays the tables out behind the table directory, sorted by tag,
// each 4-byte aligned, with its checksum (head's computed while its
// checkSumAdjustment is still 0, as the spec says).
// https://learn.microsoft.com/typography/opentype/spec/otff#organization-of-an-opentype-font
func sfnt(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags) // byte order: "OS/2" before "cmap"
	n := len(tags)
	// searchRange, entrySelector and rangeShift let a reader binary-search
	// the directory: the largest power of two ≤ n, times 16, and so on.
	pow, log := 1, 0
	for pow*2 <= n {
		pow, log = pow*2, log+1
	}
	var b writer
	b.u32(0x00010000) // sfntVersion: TrueType outlines
	b.u16(n)
	b.u16(pow * 16)
	b.u16(log)
	b.u16(n*16 - pow*16)
	offset := 12 + 16*n
	for _, tag := range tags {
		data := tables[tag]
		b.buf = append(b.buf, tag...)
		b.u32(checksum(data))
		b.u32(uint32(offset))
		b.u32(uint32(len(data)))
		offset += pad4(len(data))
	}
	for _, tag := range tags {
		b.buf = append(b.buf, tables[tag]...)
		b.buf = append(b.buf, make([]byte, pad4(len(tables[tag]))-len(tables[tag]))...)
	}
	return b.buf
}

// headOffset finds the head table in a font sfnt laid out.
func headOffset(font []byte) int {
	n := int(binary.BigEndian.Uint16(font[4:]))
	for i := range n {
		rec := font[12+16*i:]
		if string(rec[:4]) == "head" {
			return int(binary.BigEndian.Uint32(rec[8:]))
		}
	}
	panic("font: no head table")
}

// checksum is the sum of data's big-endian uint32s, zero-padded to a
// multiple of 4, modulo 2³².
// https://learn.microsoft.com/typography/opentype/spec/otff#calculating-checksums
func checksum(data []byte) uint32 {
	var sum uint32
	for i := 0; i < len(data); i += 4 {
		var word [4]byte
		copy(word[:], data[i:])
		sum += binary.BigEndian.Uint32(word[:])
	}
	return sum
}

func pad4(n int) int { return (n + 3) &^ 3 }

type bounds struct{ xMin, yMin, xMax, yMax int }

// glyfAndLoca encodes the glyphs (glyf) and where each starts (loca, the
// short format: offsets divided by 2, one more than there are glyphs).
// https://learn.microsoft.com/typography/opentype/spec/glyf
// https://learn.microsoft.com/typography/opentype/spec/loca
func glyfAndLoca(glyphs []glyph) (glyf, loca []byte, all bounds, maxPoints, maxContours int) {
	var g, l writer
	all = bounds{1 << 15, 1 << 15, -1 << 15, -1 << 15}
	for _, gl := range glyphs {
		l.u16(len(g.buf) / 2)
		bb := glyphBounds(gl)
		all = bounds{min(all.xMin, bb.xMin), min(all.yMin, bb.yMin), max(all.xMax, bb.xMax), max(all.yMax, bb.yMax)}
		g.u16(len(gl.contours)) // numberOfContours
		g.u16(bb.xMin)
		g.u16(bb.yMin)
		g.u16(bb.xMax)
		g.u16(bb.yMax)
		points := 0
		for _, c := range gl.contours {
			points += len(c)
			g.u16(points - 1) // endPtsOfContours
		}
		g.u16(0) // instructionLength: no hinting
		for range points {
			g.u8(0x01) // flags: ON_CURVE_POINT; x and y are int16 deltas
		}
		var x, y int
		for _, c := range gl.contours {
			for _, p := range c {
				g.u16(p.x - x)
				x = p.x
			}
		}
		for _, c := range gl.contours {
			for _, p := range c {
				g.u16(p.y - y)
				y = p.y
			}
		}
		if len(g.buf)%2 == 1 { // short loca offsets must be even
			g.u8(0)
		}
		maxPoints = max(maxPoints, points)
		maxContours = max(maxContours, len(gl.contours))
	}
	l.u16(len(g.buf) / 2)
	return g.buf, l.buf, all, maxPoints, maxContours
}

func glyphBounds(gl glyph) bounds {
	bb := bounds{1 << 15, 1 << 15, -1 << 15, -1 << 15}
	for _, c := range gl.contours {
		for _, p := range c {
			bb = bounds{min(bb.xMin, p.x), min(bb.yMin, p.y), max(bb.xMax, p.x), max(bb.yMax, p.y)}
		}
	}
	return bb
}

// fontDate is the font's created and modified dates, fixed so that the
// font's bytes are always the same: seconds since 1904-01-01 (a
// LONGDATETIME).
var fontDate = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix() + 2082844800

// headTable is the font header.
// https://learn.microsoft.com/typography/opentype/spec/head
func headTable(bb bounds) []byte {
	var b writer
	b.u32(0x00010000) // majorVersion 1, minorVersion 0
	b.u32(0x00010000) // fontRevision 1.0 (Fixed)
	b.u32(0)          // checkSumAdjustment: set once the file is laid out
	b.u32(0x5F0F3CF5) // magicNumber
	b.u16(0x0003)     // flags: baseline at y=0, left sidebearing at x=0
	b.u16(fontUnitsPerEm)
	b.u64(uint64(fontDate)) // created
	b.u64(uint64(fontDate)) // modified
	b.u16(bb.xMin)
	b.u16(bb.yMin)
	b.u16(bb.xMax)
	b.u16(bb.yMax)
	b.u16(0) // macStyle: regular
	b.u16(8) // lowestRecPPEM
	b.u16(2) // fontDirectionHint (deprecated; 2 as the spec asks)
	b.u16(0) // indexToLocFormat: short loca
	b.u16(0) // glyphDataFormat
	return b.buf
}

// hheaTable is the horizontal header.
// https://learn.microsoft.com/typography/opentype/spec/hhea
func hheaTable(glyphs []glyph, all bounds) []byte {
	maxAdvance, minLSB, minRSB, maxExtent := 0, 1<<15, 1<<15, -1<<15
	for _, gl := range glyphs {
		bb := glyphBounds(gl)
		maxAdvance = max(maxAdvance, gl.advance)
		minLSB = min(minLSB, bb.xMin)
		minRSB = min(minRSB, gl.advance-bb.xMax)
		maxExtent = max(maxExtent, bb.xMax)
	}
	var b writer
	b.u32(0x00010000) // version 1.0
	b.u16(fontAscender)
	b.u16(fontDescender)
	b.u16(0) // lineGap
	b.u16(maxAdvance)
	b.u16(minLSB)
	b.u16(minRSB)
	b.u16(maxExtent)
	b.u16(1) // caretSlopeRise: vertical caret
	b.u16(0) // caretSlopeRun
	b.u16(0) // caretOffset
	b.u64(0) // four reserved int16s
	b.u16(0) // metricDataFormat
	b.u16(len(glyphs))
	return b.buf
}

// maxpTable is the maximum profile, version 1.0 as TrueType outlines
// need. https://learn.microsoft.com/typography/opentype/spec/maxp
func maxpTable(numGlyphs, maxPoints, maxContours int) []byte {
	var b writer
	b.u32(0x00010000)
	b.u16(numGlyphs)
	b.u16(maxPoints)
	b.u16(maxContours)
	b.u16(0) // maxCompositePoints
	b.u16(0) // maxCompositeContours
	b.u16(2) // maxZones: the glyph zone and the twilight zone
	for range 8 {
		// maxTwilightPoints, maxStorage, maxFunctionDefs,
		// maxInstructionDefs, maxStackElements, maxSizeOfInstructions,
		// maxComponentElements, maxComponentDepth: no hinting, no
		// composite glyphs.
		b.u16(0)
	}
	return b.buf
}

// os2Table is the OS/2 and Windows metrics table, version 4.
// https://learn.microsoft.com/typography/opentype/spec/os2
func os2Table(glyphs []glyph) []byte {
	sum := 0
	for _, gl := range glyphs {
		sum += gl.advance
	}
	var b writer
	b.u16(4)                 // version
	b.u16(sum / len(glyphs)) // xAvgCharWidth
	b.u16(400)               // usWeightClass: normal
	b.u16(5)                 // usWidthClass: medium
	b.u16(0)                 // fsType: installable embedding
	for _, v := range []int{
		650, 600, 0, 75, // ySubscript X size, Y size, X offset, Y offset
		650, 600, 0, 350, // ySuperscript X size, Y size, X offset, Y offset
		50, 300, // yStrikeoutSize, yStrikeoutPosition
	} {
		b.u16(v)
	}
	b.u16(0)                                   // sFamilyClass: no classification
	b.buf = append(b.buf, make([]byte, 10)...) // panose: any
	b.u32(1)                                   // ulUnicodeRange1: bit 0, Basic Latin
	b.u32(0)
	b.u32(0)
	b.u32(0)
	b.buf = append(b.buf, "CLAB"...) // achVendID
	b.u16(0x0040)                    // fsSelection: REGULAR
	b.u16(fontCharCode)              // usFirstCharIndex
	b.u16(fontCharCode)              // usLastCharIndex
	b.u16(fontAscender)              // sTypoAscender
	b.u16(fontDescender)             // sTypoDescender
	b.u16(0)                         // sTypoLineGap
	b.u16(fontAscender)              // usWinAscent
	b.u16(-fontDescender)            // usWinDescent
	b.u32(1)                         // ulCodePageRange1: bit 0, Latin 1
	b.u32(0)
	b.u16(700) // sxHeight
	b.u16(700) // sCapHeight
	b.u16(0)   // usDefaultChar: .notdef
	b.u16(' ') // usBreakChar
	b.u16(1)   // usMaxContext
	return b.buf
}

// hmtxTable is each glyph's advance width and left side bearing.
// https://learn.microsoft.com/typography/opentype/spec/hmtx
func hmtxTable(glyphs []glyph) []byte {
	var b writer
	for _, gl := range glyphs {
		b.u16(gl.advance)
		b.u16(glyphBounds(gl).xMin) // with head.flags bit 1, lsb = xMin
	}
	return b.buf
}

// cmapTable maps FontGlyph's code point to glyph 1, in one subtable of
// format 4 for Windows' Unicode BMP encoding (platform 3, encoding 1),
// which every engine reads.
// https://learn.microsoft.com/typography/opentype/spec/cmap#format-4-segment-mapping-to-delta-values
func cmapTable() []byte {
	// Two segments: 'X' alone, with idDelta taking it to glyph 1, and the
	// 0xFFFF segment format 4 must end with (mapped to glyph 0).
	type segment struct{ start, end, delta int }
	segs := []segment{{fontCharCode, fontCharCode, 1 - fontCharCode}, {0xFFFF, 0xFFFF, 1}}
	n := len(segs)
	pow, log := 1, 0
	for pow*2 <= n {
		pow, log = pow*2, log+1
	}
	var b writer
	b.u16(0)           // version
	b.u16(1)           // numTables
	b.u16(3)           // platformID: Windows
	b.u16(1)           // encodingID: Unicode BMP
	b.u32(12)          // subtableOffset
	b.u16(4)           // format
	b.u16(16 + 8*n)    // length
	b.u16(0)           // language
	b.u16(2 * n)       // segCountX2
	b.u16(2 * pow)     // searchRange
	b.u16(log)         // entrySelector
	b.u16(2*n - 2*pow) // rangeShift
	for _, s := range segs {
		b.u16(s.end)
	}
	b.u16(0) // reservedPad
	for _, s := range segs {
		b.u16(s.start)
	}
	for _, s := range segs {
		b.u16(s.delta) // modulo 65536
	}
	for range segs {
		b.u16(0) // idRangeOffset: use idDelta
	}
	return b.buf
}

// nameTable holds the font's names, in UTF-16BE for Windows' Unicode
// BMP encoding, US English, sorted by name ID as the spec requires.
// https://learn.microsoft.com/typography/opentype/spec/name
func nameTable() []byte {
	names := []struct {
		id   int
		text string
	}{
		{0, "Generated by corslab's own code; no font data was copied."},
		{1, FontFamily},
		{2, "Regular"},
		{3, "corslab door 1.000"},
		{4, FontFamily},
		{5, "Version 1.000"},
		{6, "corslab-door"}, // PostScript name: no spaces
	}
	var strs writer
	var b writer
	b.u16(0) // version
	b.u16(len(names))
	b.u16(6 + 12*len(names)) // storageOffset
	for _, n := range names {
		var s writer
		for _, u := range utf16.Encode([]rune(n.text)) {
			s.u16(int(u))
		}
		b.u16(3)      // platformID: Windows
		b.u16(1)      // encodingID: Unicode BMP
		b.u16(0x0409) // languageID: en-US
		b.u16(n.id)
		b.u16(len(s.buf))
		b.u16(len(strs.buf))
		strs.buf = append(strs.buf, s.buf...)
	}
	return append(b.buf, strs.buf...)
}

// postTable is the PostScript table, version 3.0: no glyph names.
// https://learn.microsoft.com/typography/opentype/spec/post
func postTable() []byte {
	var b writer
	b.u32(0x00030000) // version 3.0
	b.u32(0)          // italicAngle
	b.u16(-100)       // underlinePosition
	b.u16(50)         // underlineThickness
	b.u32(0)          // isFixedPitch: proportional
	b.u32(0)          // minMemType42
	b.u32(0)          // maxMemType42
	b.u32(0)          // minMemType1
	b.u32(0)          // maxMemType1
	return b.buf
}

// writer appends big-endian numbers, as every sfnt field is. u16 takes
// an int so signed (int16, FWORD) and unsigned fields read alike: it
// keeps the low 16 bits, which is two's complement for negatives.
type writer struct{ buf []byte }

func (w *writer) u8(v int)     { w.buf = append(w.buf, byte(v)) }
func (w *writer) u16(v int)    { w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(v)) }
func (w *writer) u32(v uint32) { w.buf = binary.BigEndian.AppendUint32(w.buf, v) }
func (w *writer) u64(v uint64) { w.buf = binary.BigEndian.AppendUint64(w.buf, v) }

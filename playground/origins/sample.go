package origins

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sync"
)

// samplePNG is corslab.png, the image every bucket starts with: a 64×64
// picture of two overlapping squares, two origins, drawn here rather than
// stored, so the repository holds no binary files. It is drawn when the
// first bucket is made, not at start-up: PNG's encoder takes 850 KB of
// scratch memory to compress it.
var samplePNG = sync.OnceValue(drawSample)

func drawSample() []byte {
	const size = 64
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	app := color.NRGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff} // blue
	api := color.NRGBA{R: 0xea, G: 0x58, B: 0x0c, A: 0xff} // orange
	both := color.NRGBA{R: 0x7c, G: 0x3a, B: 0xed, A: 0xff}
	for y := range size {
		for x := range size {
			inApp := x >= 8 && x < 40 && y >= 8 && y < 40
			inAPI := x >= 24 && x < 56 && y >= 24 && y < 56
			switch {
			case inApp && inAPI:
				img.SetNRGBA(x, y, both)
			case inApp:
				img.SetNRGBA(x, y, app)
			case inAPI:
				img.SetNRGBA(x, y, api)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory image cannot fail
	}
	return b.Bytes()
}

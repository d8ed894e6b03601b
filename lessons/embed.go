// Package lessons embeds corslab's built-in curriculum: one Markdown file
// per lesson, in the format README.md describes.
package lessons

import "embed"

// FS holds the built-in lessons.
//
//go:embed *.md
var FS embed.FS

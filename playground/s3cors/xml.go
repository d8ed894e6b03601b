package s3cors

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/corslab/corslab/playground/s3err"
)

// Namespace is S3's XML namespace, which a CORSConfiguration may carry,
// and which S3 writes in its own documents.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// namespaceHTTPS is the same namespace over https, which S3 also accepts in
// a CORSConfiguration it is sent.
const namespaceHTTPS = "https://s3.amazonaws.com/doc/2006-03-01/"

// ParseXML reads a PutBucketCors body and validates it. Every error is a
// *Error: MalformedXML for a document that is not well-formed or does not fit
// S3's schema, and Validate's errors otherwise.
//
// The root is CORSConfiguration, in S3's namespace or none (AWS's samples
// write it without one). A rule's children may come in any order; each list
// keeps the order of the document; text is kept as written.
func ParseXML(body []byte) ([]Rule, error) {
	rules, err := decodeConfiguration(body)
	if err != nil {
		return nil, errMalformedXML()
	}
	if err := Validate(rules); err != nil {
		return nil, err
	}
	return rules, nil
}

var errSchema = errors.New("s3cors: document does not fit the CORSConfiguration schema")

// decodeConfiguration walks the tokens of one CORSConfiguration document.
func decodeConfiguration(body []byte) ([]Rule, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	root, err := nextElement(d)
	if err != nil {
		return nil, err
	}
	if ns := root.Name.Space; root.Name.Local != "CORSConfiguration" || ns != "" && ns != Namespace && ns != namespaceHTTPS {
		return nil, errSchema
	}
	var rules []Rule
	for {
		child, err := nextElement(d)
		if err == errEnd {
			break
		}
		if err != nil {
			return nil, err
		}
		if child.Name.Local != "CORSRule" || child.Name.Space != root.Name.Space {
			return nil, errSchema
		}
		r, err := decodeRule(d, root.Name.Space)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	// Only comments, processing instructions and white space may follow
	// the root.
	if _, err := nextElement(d); err != io.EOF {
		return nil, errSchema
	}
	return rules, nil
}

// decodeRule reads the children of a CORSRule, up to its end tag.
func decodeRule(d *xml.Decoder, space string) (Rule, error) {
	var r Rule
	var seenID, seenMaxAge bool
	for {
		child, err := nextElement(d)
		if err == errEnd {
			return r, nil
		}
		if err != nil {
			return r, err
		}
		if child.Name.Space != space {
			return r, errSchema
		}
		text, err := elementText(d)
		if err != nil {
			return r, err
		}
		switch child.Name.Local {
		case "AllowedOrigin":
			r.AllowedOrigins = append(r.AllowedOrigins, text)
		case "AllowedMethod":
			r.AllowedMethods = append(r.AllowedMethods, text)
		case "AllowedHeader":
			r.AllowedHeaders = append(r.AllowedHeaders, text)
		case "ExposeHeader":
			r.ExposeHeaders = append(r.ExposeHeaders, text)
		case "ID":
			if seenID {
				return r, errSchema
			}
			seenID, r.ID = true, text
		case "MaxAgeSeconds":
			// "A CORSRule can have at most one MaxAgeSeconds element"
			// (the 2019 PutBucketCors page); an xs:integer may be
			// surrounded by white space.
			n, err := strconv.Atoi(strings.TrimSpace(text))
			if seenMaxAge || err != nil {
				return r, errSchema
			}
			seenMaxAge, r.MaxAgeSeconds = true, &n
		default:
			return r, errSchema
		}
	}
}

// errEnd says the current element ended before another one started.
var errEnd = errors.New("s3cors: end of element")

// nextElement skips white space, comments, processing instructions and
// directives and returns the next start tag. It returns errEnd at the
// enclosing end tag, io.EOF at the end of the input, and errSchema for text
// between elements.
func nextElement(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, errEnd
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return xml.StartElement{}, errSchema
			}
		case xml.Directive:
			// A DOCTYPE has no place in an S3 request.
			return xml.StartElement{}, errSchema
		}
	}
}

// elementText reads the text of an element that holds only text, up to its
// end tag.
func elementText(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement, xml.Directive:
			return "", errSchema
		}
	}
}

// XML renders rules as the CORSConfiguration document that a user pastes
// into the S3 console or sends with PutBucketCors, indented by two spaces.
// Children come in the order of AWS's user-guide samples: ID, AllowedOrigin,
// AllowedMethod, AllowedHeader, ExposeHeader, MaxAgeSeconds. An empty ID is
// left out.
func XML(rules []Rule) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<CORSConfiguration xmlns="` + Namespace + `">` + "\n")
	for _, r := range rules {
		b.WriteString("  <CORSRule>\n")
		if r.ID != "" {
			ruleElement(&b, "ID", r.ID)
		}
		for _, list := range []struct {
			name   string
			values []string
		}{
			{"AllowedOrigin", r.AllowedOrigins},
			{"AllowedMethod", r.AllowedMethods},
			{"AllowedHeader", r.AllowedHeaders},
			{"ExposeHeader", r.ExposeHeaders},
		} {
			for _, v := range list.values {
				ruleElement(&b, list.name, v)
			}
		}
		if r.MaxAgeSeconds != nil {
			ruleElement(&b, "MaxAgeSeconds", strconv.Itoa(*r.MaxAgeSeconds))
		}
		b.WriteString("  </CORSRule>\n")
	}
	b.WriteString("</CORSConfiguration>\n")
	return b.Bytes()
}

// ruleElement writes one child of a CORSRule on its own line.
func ruleElement(b *bytes.Buffer, name, text string) {
	b.WriteString("    ")
	s3err.Element(b, name, text)
	b.WriteString("\n")
}

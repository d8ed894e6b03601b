package views

import (
	"strconv"

	"github.com/corslab/corslab/playground/scenario"
)

// MatrixData is the matrix page: article 000's experiment (an api that
// redirects to a presigned S3 URL), one fetch() per cell, run in the
// learner's browser. The page hands all of it to matrix.js as JSON, under
// these names. It carries no results: the table is whatever the browser
// does when the learner presses Run.
type MatrixData struct {
	SessionID string   `json:"sessionId"`
	UIOrigin  string   `json:"uiOrigin"` // "http://127.0.0.1:8080"
	Origins   []Origin `json:"origins"`  // app, api, s3, evil in that order
	// The settings, as the permalink carries them. Setup and Credentials
	// may be "all": one table for each choice.
	Setup       string `json:"setup"`       // "three-origins", … or "all"
	Credentials string `json:"credentials"` // "include", "same-origin", "omit" or "all"
	Redirect    int    `json:"redirect"`    // the api's redirect status: 301, 302, 303, 307 or 308
	Query       string `json:"query"`       // "setup=…&credentials=…&redirect=…", without "?" or run=1
	ShareURL    string `json:"shareUrl"`    // UIOrigin + "/matrix?" + Query: a link that opens a NEW session with these settings
	RunOnLoad   bool   `json:"runOnLoad"`   // the URL had run=1: run once on load, then drop run=1 from the address bar
	// LastSeq is the session's newest exchange when the page was rendered:
	// a run started before the stream catches up claims only what is newer.
	LastSeq uint64 `json:"lastSeq"`
	// Scenario is the session's scenario when the page was rendered: what
	// a run on load puts back when it is over.
	Scenario scenario.Scenario `json:"scenario"`
	// Runners are the runner pages the settings' cells run from, one per
	// origin, rendered with the page so that they load while matrix.js
	// does; it takes them over (runner-frame.js).
	Runners []MatrixRunner `json:"-"`
	// What the choosers offer, in order; "all" is the last setup and the
	// last credentials mode.
	Setups           []string `json:"setups"`
	CredentialsModes []string `json:"credentialsModes"`
	Redirects        []int    `json:"redirects"`
}

// MatrixRunner is one runner frame of the matrix page.
type MatrixRunner struct {
	From string // the role whose page makes the cells' requests: "app", "api"
	URL  string // its runner page, exactly as runner-frame.js builds it
}

// matrixSetupLabel is how the setup chooser names a setup.
func matrixSetupLabel(setup string) string {
	switch setup {
	case "three-origins":
		return "three origins: app → api → s3"
	case "two-origins":
		return "two origins: page on api → s3"
	case "one-origin":
		return "one origin: app proxies api and s3"
	case "all":
		return "all three setups"
	}
	return setup
}

// matrixCredentialsLabel is how the credentials chooser names a mode.
func matrixCredentialsLabel(mode string) string {
	switch mode {
	case "include":
		return "include"
	case "same-origin":
		return "same-origin (the default)"
	case "omit":
		return "omit"
	case "all":
		return "all three modes"
	}
	return mode
}

// matrixRedirectLabel is how the redirect chooser names a status.
func matrixRedirectLabel(status int) string {
	reason := map[int]string{
		301: "Moved Permanently", 302: "Found", 303: "See Other",
		307: "Temporary Redirect", 308: "Permanent Redirect",
	}[status]
	if reason == "" {
		return strconv.Itoa(status)
	}
	return strconv.Itoa(status) + " " + reason
}

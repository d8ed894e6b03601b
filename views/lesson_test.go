package views

import "testing"

// A lesson is named by its number in the whole curriculum (LessonView.Number),
// the same 1 to N the index, the texts and the dashboard use.
func TestLessonNumbering(t *testing.T) {
	tests := []struct {
		desc, got, want string
	}{
		{"a lesson's label", lessonLabel(7), "Lesson 7"},
		{"no number known", lessonLabel(0), ""},
		{"the tab of a numbered lesson", labTitle(LabData{Lesson: &LessonView{Title: "Signed URLs", Number: 7}}), "7. Signed URLs"},
		{"the tab of a lesson without a number", labTitle(LabData{Lesson: &LessonView{Title: "Signed URLs"}}), "Signed URLs"},
		{"an index card", LessonSummary{Number: 12, Order: 3}.numberText(), "12"},
		{"the link to the lesson before", prevLabel(&LessonLink{Number: 6}), "← Lesson 6"},
		{"the link to the lesson after", nextLabel(&LessonLink{Number: 8}), "Lesson 8 →"},
		{"a link without a number", prevLabel(&LessonLink{}) + " " + nextLabel(nil), "← Previous Next →"},
		{"goals count from 1", lessonNumber(0), "1"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.desc, tt.got, tt.want)
		}
	}
}

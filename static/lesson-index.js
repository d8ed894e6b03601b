// lesson-index.js: progress on the lessons' index (/lessons).
//
// The server lists every lesson with its goal ids (data-goals); which of
// them this browser has met lives in localStorage (progress.js), from every
// session it ran. Here each lesson gets a dot per goal, "2 of 3 goals",
// and its link says Start, Continue or Review.
//
// A link from a lesson on another host (lesson 11 needs corslab.localhost)
// may carry the progress made there: it is added to this host's record
// first, only for the lessons and goals listed here.

import { el } from "./dom.js";
import { progressText } from "./lesson.js";
import { loadProgress, takeCarried, mergeCarried, followProgress } from "./progress.js";

const cards = [...document.querySelectorAll(".lesson-card")];
const goalsOf = (card) => (card.dataset.goals ?? "").split(" ").filter(Boolean);

mergeCarried(takeCarried(), new Map(cards.map((card) => [card.dataset.slug, new Set(goalsOf(card))])));
for (const track of document.querySelectorAll(".track")) showTrack(track);
// A lesson on another host gets the progress too, and its links lead back.
followProgress(document);

function showTrack(track) {
  let complete = 0;
  const trackCards = [...track.querySelectorAll(".lesson-card")];
  for (const card of trackCards) {
    const goals = goalsOf(card);
    const stored = loadProgress(card.dataset.slug);
    const done = goals.filter((id) => stored.has(id)).length;
    showProgress(card, goals.length, done);
    if (goals.length > 0 && done === goals.length) complete++;
  }
  const summary = track.querySelector("[data-track-progress]");
  if (summary && complete > 0) {
    summary.textContent = `${complete} of ${trackCards.length} ${trackCards.length === 1 ? "lesson" : "lessons"} complete`;
  }
}

function showProgress(card, total, done) {
  const state = done === 0 ? "new" : done < total ? "started" : "complete";
  card.dataset.progress = state;
  card.querySelector(".progress-text").textContent = progressText(done, total);
  const dots = card.querySelector(".goal-dots");
  dots.replaceChildren(...Array.from({ length: total }, (_, i) =>
    el("span", { class: i < done ? "dot done" : "dot" })));
  const start = card.querySelector("a.start");
  const title = card.querySelector("h3").textContent;
  const verb = { new: "Start", started: "Continue", complete: "Review" }[state];
  start.textContent = verb;
  start.setAttribute("aria-label", `${verb}: ${title}`);
}

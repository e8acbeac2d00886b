/**
 * The base subject of RFC 5256 §2.1, the key of SORT (SUBJECT), of both THREAD algorithms and of the
 * subject half of the mailstore's conversations: the subject without its reply and forward markers,
 * list tags ("[list]") and "(fwd)" trailers. Input is the decoded subject (step 1's RFC 2047 decoding
 * happened when the message was stored).
 */

/** subj-trailer: "(fwd)" (case-insensitive). WSP is handled by trimming. */
const FWD_TRAILER = /\(fwd\)$/i;
/** subj-leader's first form: *subj-blob subj-refwd, with subj-refwd = ("re" / "fw" ["d"]) *WSP [subj-blob] ":". */
const REFWD_LEADER = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
/** subj-blob: "[" *BLOBCHAR "]" *WSP. */
const BLOB = /^\[[^[\]]*\][ \t]*/;

export interface BaseSubject {
  /** The base subject, spaces collapsed, case kept (fold it with `foldCasemap` to compare). */
  base: string;
  /**
   * RFC 5256 §3 (REFERENCES): "a reply or forward" if the extraction removed a subj-refwd, a "(fwd)"
   * trailer, or a subj-fwd-hdr and subj-fwd-trl.
   */
  replyOrForward: boolean;
}

/** RFC 5256 §2.1 steps (1)-(7), exactly as written (the RFC asks every implementation for the same result). */
export function extractBaseSubject(subject: string): BaseSubject {
  // (1) Tabs and continuations to space, runs of spaces to one.
  let s = subject.replace(/[\t\r\n]+/g, ' ').replace(/ {2,}/g, ' ');
  let replyOrForward = false;
  for (;;) {
    // (2) Trailers: "(fwd)" and WSP, until none is left.
    for (;;) {
      if (s.endsWith(' ')) s = s.slice(0, -1);
      else if (FWD_TRAILER.test(s)) {
        s = s.slice(0, -5);
        replyOrForward = true;
      } else break;
    }
    // (5) Repeat (3) and (4) until neither removes anything.
    for (;;) {
      const before = s;
      // (3) Leaders: WSP, or blobs followed by re/fw/fwd and a colon.
      for (;;) {
        if (s.startsWith(' ')) {
          s = s.slice(1);
          continue;
        }
        const leader = REFWD_LEADER.exec(s);
        if (!leader) break;
        s = s.slice(leader[0].length);
        replyOrForward = true;
      }
      // (4) A leading blob, when something other than blanks is left after it.
      const blob = BLOB.exec(s);
      if (blob && s.length > blob[0].length) s = s.slice(blob[0].length);
      if (s === before) break;
    }
    // (6) "[fwd:" ... "]" around the whole: remove them and start again from (2).
    if (s.length >= 6 && s.slice(0, 5).toLowerCase() === '[fwd:' && s.endsWith(']')) {
      s = s.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    // (7)
    return { base: s, replyOrForward };
  }
}

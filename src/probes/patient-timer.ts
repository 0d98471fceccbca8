// Timeouts that decide a verdict ("the ping went unanswered", "the connect timed out") must
// measure the peer's silence, not ssh-doctor's own. When this process stalls (a busy laptop, a
// CI machine running the whole suite, a long synchronous parse), a plain setTimeout fires late,
// and it fires in the timers phase, before the poll phase reads the reply that arrived during
// the stall: the peer answered, yet the wait "expired". So a patient timeout
//  - counts only the time the event loop was running (stalls are measured by a light sampler
//    and by the timer's own lateness, and the wait is extended by them), and
//  - gives the loop one I/O turn (setImmediate) before it decides, so a reply already in the
//    socket is read first.
// The extension is bounded (MAX_STRETCH x the wait) so a permanently starved process still ends.

const SAMPLE_MS = 100;
/** A sampler tick later than this is a stall; smaller jitter is normal scheduling. */
const STALL_SLACK_MS = 50;
const MAX_STRETCH = 4;

let stalledTotal = 0;
let lastTick = 0;
let sampler: NodeJS.Timeout | undefined;
let users = 0;

/** Adds the stall since the last tick (if any) to the total; called by the sampler and on demand. */
function sample(): void {
  const now = performance.now();
  const gap = now - lastTick;
  if (gap > SAMPLE_MS + STALL_SLACK_MS) stalledTotal += gap - SAMPLE_MS;
  lastTick = now;
}

function acquire(): void {
  if (users++ === 0) {
    lastTick = performance.now();
    sampler = setInterval(sample, SAMPLE_MS);
    sampler.unref();
  }
}

function release(): void {
  if (--users === 0 && sampler) {
    clearInterval(sampler);
    sampler = undefined;
  }
}

/** Milliseconds the event loop has been stalled since the process started measuring (for tests and notes). */
export function stalledMs(): number {
  if (users > 0) sample();
  return stalledTotal;
}

export interface PatientTimerOptions {
  /** Keep the process alive while waiting (default true, like setTimeout). */
  ref?: boolean;
}

/**
 * Calls `fn` once `ms` of running event-loop time have passed (stalls of this process do not
 * count), after one I/O turn. Returns a cancel function.
 */
export function patientTimeout(fn: () => void, ms: number, opts: PatientTimerOptions = {}): () => void {
  acquire();
  const start = performance.now();
  const stalledAtStart = stalledTotal;
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let done = false;
  const finish = (call: boolean) => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    release();
    if (call) fn();
  };
  const arm = (delay: number) => {
    timer = setTimeout(() => {
      // our timer runs before this turn's I/O: let a reply that arrived during a stall be read first
      immediate = setImmediate(check);
    }, Math.max(0, delay));
    if (opts.ref === false) timer.unref();
  };
  const check = () => {
    if (done) return;
    sample();
    const elapsed = performance.now() - start;
    const live = elapsed - (stalledTotal - stalledAtStart);
    if (live >= ms - 1 || elapsed >= ms * MAX_STRETCH) finish(true);
    else arm(ms - live);
  };
  arm(ms);
  return () => finish(false);
}

// Sound and vibration for scan feedback, where the device has them.

let ctx = null;

function tone(freq, start, dur) {
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  osc.type = 'square';
  osc.frequency.value = freq;
  gain.gain.setValueAtTime(0.08, ctx.currentTime + start);
  gain.gain.setValueAtTime(0, ctx.currentTime + start + dur);
  osc.connect(gain).connect(ctx.destination);
  osc.start(ctx.currentTime + start);
  osc.stop(ctx.currentTime + start + dur + 0.02);
}

function beep(pattern) {
  try {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return;
    ctx = ctx || new AC();
    if (ctx.state === 'suspended') ctx.resume();
    for (const [f, s, d] of pattern) tone(f, s, d);
  } catch {
    // No sound on this device; the screen still says it.
  }
}

function vibrate(p) {
  try {
    if (navigator.vibrate) navigator.vibrate(p);
  } catch {
    // Not available.
  }
}

/** A short high beep: accepted. */
export function ok() {
  beep([[1320, 0, 0.07]]);
  vibrate(40);
}

/** Two low buzzes: refused, look at the screen. */
export function warn() {
  beep([[220, 0, 0.15], [220, 0.22, 0.15]]);
  vibrate([200, 100, 200]);
}

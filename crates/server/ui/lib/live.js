// The server's live event stream (Server-Sent Events on /api/v1/events),
// for pages that must change the moment something happens without a
// reload. EventSource reconnects by itself; the page is told whether it is
// connected so it can say so, and refetches what it shows on reconnect
// (events sent while it was away are not replayed).

/** The event names the server sends (`event` of each effect). */
export const EVENTS = [
  'tube_opened', 'sample_added', 'tube_sealed', 'tube_boxed', 'box_handed_over', 'tube_received',
  'tube_resulted', 'result_unchanged', 'incident_opened', 'incident_updated', 'decision_proposed',
  'decision_decided', 'incident_closed', 'lagged',
];

/** Calls `onEvent(name, data)` for every event and `onState(state)` with
 * `connecting`, `connected` or `lost`; returns a function that closes the stream. */
export function subscribe(onEvent, onState = () => {}) {
  const source = new EventSource('/api/v1/events');
  let wasLost = false;
  onState('connecting');
  source.onopen = () => {
    onState('connected', wasLost);
    wasLost = false;
  };
  source.onerror = () => {
    wasLost = true;
    onState('lost');
  };
  for (const name of EVENTS) {
    source.addEventListener(name, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        data = e.data;
      }
      onEvent(name, data);
    });
  }
  return () => source.close();
}

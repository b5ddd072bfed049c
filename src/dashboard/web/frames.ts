/**
 * Binary frames of points (wire.ts PointsHeader) cut out of a byte stream as it arrives; no DOM
 * here, so the server's tests read frames with the browser's own code.
 */
import { type PointsHeader, pointFrameBytes } from "../wire.ts";

/** readFrames cuts a byte stream of frames (wire.ts PointsHeader) into whole frames, as they arrive. */
export async function* readFrames(body: ReadableStream<Uint8Array>): AsyncGenerator<ArrayBuffer> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let have = 0;
  /** take removes the first n bytes (n <= have) and returns them in a new buffer. */
  const take = (n: number, keep = false): Uint8Array<ArrayBuffer> => {
    const out = new Uint8Array(n);
    let at = 0;
    let i = 0;
    while (at < n) {
      const c = chunks[i] as Uint8Array;
      const part = c.subarray(0, Math.min(c.length, n - at));
      out.set(part, at);
      at += part.length;
      if (!keep) {
        if (part.length === c.length) chunks.shift();
        else chunks[0] = c.subarray(part.length);
      } else i++;
    }
    if (!keep) have -= n;
    return out;
  };
  let need = 0; // the length of the frame being read, once its header is in
  for (;;) {
    for (;;) {
      if (need === 0 && have >= 4) {
        const headerBytes = new DataView(take(4, true).buffer).getUint32(0, true);
        if (have < 4 + headerBytes) break;
        const header = JSON.parse(new TextDecoder().decode(take(4 + headerBytes, true).subarray(4)));
        need = pointFrameBytes(headerBytes, header as PointsHeader);
      }
      if (need === 0 || have < need) break;
      yield take(need).buffer;
      need = 0;
    }
    const { done, value } = await reader.read();
    if (done) {
      if (have > 0) throw new Error("the points ended in the middle of a frame: reload the page");
      return;
    }
    chunks.push(value);
    have += value.length;
  }
}

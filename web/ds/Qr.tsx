/**
 * A QR code drawn in the page from the `qrcode` library's matrix, as SVG elements: nothing is sent to
 * a third party and no markup is built from strings (the CSP stays strict).
 */
import { create } from 'qrcode';

export function QrCode({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const { modules } = create(text, { errorCorrectionLevel: 'M' });
  const count = modules.size;
  const quiet = 4;
  const cells: string[] = [];
  for (let y = 0; y < count; y++) {
    for (let x = 0; x < count; x++) if (modules.get(y, x)) cells.push(`M${x + quiet} ${y + quiet}h1v1h-1z`);
  }
  const extent = count + quiet * 2;
  return (
    <svg class="qr" role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${extent} ${extent}`} shape-rendering="crispEdges">
      <rect width={extent} height={extent} fill="#fff" />
      <path d={cells.join('')} fill="#000" />
    </svg>
  );
}

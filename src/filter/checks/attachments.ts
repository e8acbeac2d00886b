/**
 * The built-in malware step (R-V1): every leaf part of the message is checked by name and MIME type
 * against `filter.riskyAttachments`, and those within the deep-scan limit (message.ts:
 * `MAX_DEEP_SCAN_BYTES` per part, `MAX_DEEP_SCAN_TOTAL_BYTES` per message) also by content: EICAR,
 * Windows executables, and zip archives opened within `ZIP_LIMITS` (malware.ts).
 *
 * Larger parts get the name and type checks only (the ClamAV adapter, when configured, scans them
 * whole). An archive that cannot be inspected within the limits (a zip bomb) makes the check throw a
 * `limit` AppError: the pipeline then fails safe and the message is held, unless malware was found.
 */
import { AppError, text } from '../../shared/errors.ts';
import type { Check, CheckResult, Malware } from '../types.ts';
import { riskyByName, type ScanFindings, scanFile } from './malware.ts';
import { type FilterContext, readMessage } from './message.ts';

const SOURCE = 'attachments';

export const EICAR_SIGNATURE = 'Eicar-Test-Signature';
export const RISKY_ATTACHMENT = 'RISKY_ATTACHMENT';

export function attachmentsCheck(ctx: FilterContext): Check {
  return {
    name: SOURCE,
    async run(input): Promise<CheckResult> {
      const risky = new Set(ctx.config.filter.riskyAttachments.map((e) => e.toLowerCase().replace(/^\./, '')));
      const view = await readMessage(input);
      let eicar: string | null = null;
      let riskyFile: ScanFindings['risky'] = null;
      let limit: string | null = null;
      for (const leaf of view.leaves) {
        const name = leaf.filename || '(unnamed)';
        if (leaf.bytes && (leaf.kind !== 'text' || leaf.bytes.length <= 4096 || leaf.filename)) {
          const found = scanFile(name, leaf.mime, leaf.bytes, { risky });
          eicar ??= found.eicar;
          riskyFile ??= found.risky;
          limit ??= found.limit;
        } else {
          const extension = riskyByName(leaf.filename, leaf.mime, { risky });
          if (extension) riskyFile ??= { path: name, extension };
        }
        if (eicar) break;
      }
      if (eicar) return { symbols: [], malware: eicarFinding(eicar) };
      if (riskyFile) return { symbols: [], malware: riskyFinding(riskyFile.path, riskyFile.extension) };
      if (limit)
        throw new AppError(
          'limit',
          'filter-unscannable',
          text(`An attachment could not be inspected: ${limit}`, `Une pièce jointe n'a pas pu être inspectée : ${limit}`),
        );
      return { symbols: [] };
    },
  };
}

function eicarFinding(path: string): Malware {
  return {
    name: EICAR_SIGNATURE,
    reason: text(`The EICAR antivirus test file was found in ${path}`, `Le fichier de test antivirus EICAR a été trouvé dans ${path}`),
    source: SOURCE,
  };
}

function riskyFinding(path: string, extension: string): Malware {
  return {
    name: RISKY_ATTACHMENT,
    reason: text(`The attachment ${path} is of a dangerous type (.${extension})`, `La pièce jointe ${path} est d'un type dangereux (.${extension})`),
    source: SOURCE,
  };
}

/**
 * Header and body heuristics: small signs that are common in spam and rare in wanted mail. Each adds a
 * modest score (at most a few points): alone, none holds a message; with Bayes and the blocklists they
 * make the verdict. Every rule reads the shared message view (message.ts), so the message is decoded once.
 */
import { DAY_MS, HOUR_MS } from '../../shared/clock.ts';
import type { Check, CheckResult, FilterInput, FilterSymbol } from '../types.ts';
import { domainOfAddress, type FilterContext, findUrls, headerValue, hostOfUrl, type MessageView, readMessage, registeredDomain, symbol } from './message.ts';

const SOURCE = 'heuristics';

/** Characters of a text part that the body rules read: the start of a long body says what it is. */
const BODY_SCAN_CHARS = 200_000;

/** Container nesting no mail program produces. */
const DEEP_NESTING = 20;

/** Top-level header octets over which a header is abnormal (mail programs write a few kilobytes). */
const HUGE_HEADER_BYTES = 256 * 1024;

export const URL_SHORTENERS = new Set([
  'bit.ly',
  'bitly.com',
  'tinyurl.com',
  'goo.gl',
  't.co',
  'ow.ly',
  'is.gd',
  'buff.ly',
  'rebrand.ly',
  'cutt.ly',
  'shorturl.at',
  'tiny.cc',
  'rb.gy',
  't.ly',
  'v.gd',
  'shorte.st',
  'adf.ly',
  'bl.ink',
  'lnkd.in',
  's.id',
  'qr.ae',
]);

/** Phrases of scams and phishing, English and French (lower-case, matched on word boundaries). */
const SUSPICIOUS_PHRASES: RegExp[] = [
  /\bverify your (?:account|identity|password|information)\b/,
  /\bconfirm your (?:account|identity|password|banking|billing)\b/,
  /\byour account (?:has been|will be) (?:suspended|locked|closed|deactivated|limited)\b/,
  /\bupdate your (?:payment|billing|account) (?:details|information)\b/,
  /\bclick (?:here|below) (?:to|and) (?:claim|verify|confirm|unsubscribe|remove)\b/,
  /\b(?:you have|you've) (?:won|been selected)\b/,
  /\bclaim your (?:prize|reward|refund)\b/,
  /\b(?:100%|completely|absolutely) (?:free|guaranteed|risk[- ]free)\b/,
  /\bact now\b|\blimited time offer\b|\bonce in a lifetime\b/,
  /\bwork from home\b|\bmake money fast\b|\bearn (?:extra )?(?:cash|money)\b/,
  /\b(?:dear|attn:?) (?:friend|beneficiary|customer|sir\/madam|account holder)\b/,
  /\bnext of kin\b|\bconsignment box\b|\bbank transfer\b.*\bconfidential\b/,
  /\bno (?:prescription|credit check) (?:needed|required)\b/,
  /\b(?:lose|losing) (?:weight|\d+ (?:lbs|pounds))\b/,
  /\bremoved? from (?:this|our|the) (?:mailing )?list\b.*\bclick\b/,
  /\bvérifie[rz] votre (?:compte|identité|mot de passe)\b/,
  /\bconfirme[rz] vos (?:coordonnées|informations)\b/,
  /\bvotre compte (?:a été|sera) (?:suspendu|bloqué|fermé|désactivé)\b/,
  /\bvous avez (?:gagné|été sélectionnée?)\b/,
  /\b(?:réclamez|récupérez) votre (?:prix|gain|remboursement|cadeau)\b/,
  /\boffre (?:limitée|exceptionnelle)\b|\bgratuit(?:ement)? et sans engagement\b/,
  /\btravail(?:ler)? (?:à|depuis) (?:la )?maison\b|\bgagne[rz] de l'argent\b/,
];

const MONEY =
  /(?:[$€£]\s?\d{1,3}(?:[,. ]\d{3})+|\b\d+(?:[.,]\d+)? ?(?:million|millions|billion|milliards?) (?:(?:us |u\.s\. )?dollars?|euros?|pounds?|usd|eur)\b|\b(?:usd|eur|us\$)\s?\d{1,3}(?:[,. ]\d{3}){2,})/i;

const HIDDEN_TEXT =
  /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*[01](?:\.\d+)?(?:px|pt)?\s*[;"']|<font[^>]*size\s*=\s*["']?[01]\b|color\s*:\s*#?(?:fff\b|ffffff\b|white\b)[^>]*>[^<]{20,}/i;

type Rule = (ctx: FilterContext, input: FilterInput, view: MessageView) => FilterSymbol | null;

const s = (name: string, score: number, en: string, fr: string) => symbol(SOURCE, name, score, en, fr);

function bodyText(view: MessageView): string {
  const plain = view.texts.find((t) => t.subtype === 'plain') ?? view.texts[0];
  return plain ? plain.text.slice(0, BODY_SCAN_CHARS) : '';
}

function allBodyText(view: MessageView): string {
  return view.texts.map((t) => t.text.slice(0, BODY_SCAN_CHARS)).join('\n');
}

function htmlParts(view: MessageView): string[] {
  return view.texts.filter((t) => t.subtype === 'html').map((t) => t.raw.slice(0, BODY_SCAN_CHARS * 2));
}

const rules: Rule[] = [
  (_ctx, input, view) =>
    input.direction === 'inbound' && !view.headers.date ? s('MISSING_DATE', 1, 'The message has no Date header', "Le message n'a pas d'en-tête Date") : null,
  (_ctx, input, view) =>
    input.direction === 'inbound' && !view.headers['message-id']
      ? s('MISSING_MESSAGE_ID', 1, 'The message has no Message-ID header', "Le message n'a pas d'en-tête Message-ID")
      : null,
  (_ctx, _input, view) => (!view.headers.subject ? s('MISSING_SUBJECT', 0.5, 'The message has no subject', "Le message n'a pas d'objet") : null),
  (_ctx, input, view) =>
    !view.headers.from && input.direction === 'inbound' ? s('MISSING_FROM', 2, 'The message has no From header', "Le message n'a pas d'en-tête From") : null,
  (_ctx, input) => {
    const from = input.metadata.envelope.from?.[0];
    if (!from?.name || !from.host) return null;
    const inName = /[A-Za-z0-9._%+-]+@([A-Za-z0-9-]+\.[A-Za-z0-9.-]+)/.exec(from.name);
    if (!inName || (inName[1] as string).toLowerCase() === from.host.toLowerCase()) return null;
    return s(
      'FROM_NAME_OTHER_ADDRESS',
      2,
      'The sender name shows an address other than the real one',
      "Le nom de l'expéditeur affiche une autre adresse que la véritable",
    );
  },
  (_ctx, input) => {
    const subject = input.metadata.summary.subject;
    const letters = subject.replace(/[^\p{L}]/gu, '');
    return letters.length >= 10 && letters === letters.toUpperCase() && letters !== letters.toLowerCase()
      ? s('SUBJECT_ALL_CAPS', 1, 'The subject is written in capitals', "L'objet est écrit en majuscules")
      : null;
  },
  (_ctx, input) =>
    /!{2,}|(?:!.*){3,}/.test(input.metadata.summary.subject)
      ? s('SUBJECT_EXCLAMATIONS', 1, 'The subject has many exclamation marks', "L'objet contient beaucoup de points d'exclamation")
      : null,
  (_ctx, _input, view) => {
    const body = bodyText(view);
    const marks = body.match(/!{3,}/g)?.length ?? 0;
    return marks >= 3 ? s('BODY_EXCLAMATIONS', 0.7, 'The text has many exclamation marks', "Le texte contient beaucoup de points d'exclamation") : null;
  },
  (_ctx, _input, view) =>
    view.texts.length > 0 && view.texts.every((t) => t.subtype === 'html')
      ? s('HTML_ONLY', 0.7, 'The message is HTML only, without a plain text version', "Le message n'est qu'en HTML, sans version texte")
      : null,
  (_ctx, _input, view) =>
    htmlParts(view).some((html) => HIDDEN_TEXT.test(html))
      ? s('HTML_HIDDEN_TEXT', 1.5, 'The HTML hides part of its text', 'Le HTML cache une partie de son texte')
      : null,
  (_ctx, _input, view) => {
    const html = htmlParts(view);
    if (html.length === 0) return null;
    const images = html.reduce((n, h) => n + (h.match(/<img\b/gi)?.length ?? 0), 0);
    const words = view.texts.filter((t) => t.subtype === 'html').reduce((n, t) => n + (t.text.match(/\p{L}{2,}/gu)?.length ?? 0), 0);
    return images > 0 && words < 20 && !view.texts.some((t) => t.subtype === 'plain' && /\p{L}{2,}/u.test(t.text))
      ? s('HTML_IMAGE_ONLY', 1.5, 'The message is images with almost no text', "Le message n'est fait que d'images, presque sans texte")
      : null;
  },
  (_ctx, _input, view) => {
    for (const part of view.texts) {
      for (const url of findUrls(part.subtype === 'html' ? part.raw : part.text, 100)) {
        if (URL_SHORTENERS.has(hostOfUrl(url)))
          return s('URL_SHORTENER', 1, 'The message links through a URL shortener', 'Le message contient un lien raccourci');
      }
    }
    return null;
  },
  (_ctx, _input, view) => {
    for (const html of htmlParts(view)) {
      const anchors = /<a\b[^>]*?href\s*=\s*["']?(https?:\/\/[^"'\s>]+)[^>]*>([^<]{4,300})<\/a/gi;
      let checked = 0;
      for (let m = anchors.exec(html); m && checked < 200; m = anchors.exec(html), checked++) {
        const shown = (m[2] as string).trim();
        if (!/^(?:https?:\/\/|www\.)[a-z0-9.-]+\.[a-z]{2,}/i.test(shown)) continue;
        const hrefDomain = registeredDomain(hostOfUrl(m[1] as string));
        const shownDomain = registeredDomain(hostOfUrl(shown));
        if (hrefDomain && shownDomain && hrefDomain !== shownDomain)
          return s('LINK_TEXT_MISMATCH', 2, 'A link shows one address and leads to another', 'Un lien affiche une adresse et mène à une autre');
      }
    }
    return null;
  },
  (_ctx, input, view) => {
    const body = `${input.metadata.summary.subject}\n${allBodyText(view)}`.toLowerCase();
    let hits = 0;
    for (const phrase of SUSPICIOUS_PHRASES) if (phrase.test(body)) hits++;
    if (hits === 0) return null;
    return s(
      'SUSPICIOUS_PHRASES',
      Math.min(3, 0.8 * hits),
      `The text uses ${hits} phrase(s) typical of scams`,
      `Le texte emploie ${hits} formule(s) typique(s) des arnaques`,
    );
  },
  (_ctx, input, view) =>
    MONEY.test(`${input.metadata.summary.subject}\n${allBodyText(view)}`)
      ? s('MONEY_AMOUNT', 0.5, 'The message talks about large sums of money', "Le message parle de grosses sommes d'argent")
      : null,
  (_ctx, _input, view) =>
    view.texts.some((t) => t.leaf.encoding === 'base64' && t.leaf.bytes !== null && isAscii(t.leaf.bytes))
      ? s('BASE64_TEXT', 0.8, 'Plain ASCII text was needlessly base64-encoded', 'Du texte ASCII simple a été encodé en base64 sans raison')
      : null,
  (_ctx, _input, view) =>
    view.leaves.some((leaf) => leaf.decodeError)
      ? s('BROKEN_ENCODING', 1, 'A part of the message is not validly encoded', "Une partie du message n'est pas correctement encodée")
      : null,
  (_ctx, _input, view) => {
    const fromDomain = domainOfAddress(headerValue(view, 'from'));
    const replyDomain = domainOfAddress(headerValue(view, 'reply-to'));
    if (!fromDomain || !replyDomain || registeredDomain(fromDomain) === registeredDomain(replyDomain)) return null;
    if (view.headers['list-id'] || view.headers['list-post']) return null; // lists set Reply-To to themselves
    return s(
      'REPLY_TO_OTHER_DOMAIN',
      1,
      'Replies go to another domain than the sender’s',
      "Les réponses partent vers un autre domaine que celui de l'expéditeur",
    );
  },
  (ctx, input) => {
    const date = input.metadata.summary.date;
    if (date === null) return null;
    const now = ctx.clock.now();
    if (date > now + 24 * HOUR_MS) return s('DATE_IN_FUTURE', 1.5, 'The message is dated in the future', 'Le message est daté dans le futur');
    if (date < now - 30 * DAY_MS) return s('DATE_TOO_OLD', 1, 'The message is dated more than a month ago', "Le message est daté d'il y a plus d'un mois");
    return null;
  },
  (_ctx, input, view) =>
    input.direction === 'inbound' && view.headers.date && input.metadata.summary.date === null
      ? s('DATE_UNREADABLE', 0.8, 'The Date header is malformed', "L'en-tête Date est mal formé")
      : null,
  (_ctx, _input, view) =>
    view.maxDepth > DEEP_NESTING
      ? s('MIME_DEEP_NESTING', 2, 'The message has abnormally deep MIME nesting', 'Le message a une imbrication MIME anormalement profonde')
      : null,
  (_ctx, input) =>
    input.metadata.headerSize > HUGE_HEADER_BYTES
      ? s('HEADER_HUGE', 2, 'The message header is abnormally large', "L'en-tête du message est anormalement grand")
      : null,
  (_ctx, _input, view) => {
    const to = view.headers.to?.[0] ?? '';
    return /undisclosed|recipient list not shown/i.test(to) || (!view.headers.to && !view.headers.cc)
      ? s('TO_UNDISCLOSED', 0.5, 'The recipients are hidden', 'Les destinataires sont masqués')
      : null;
  },
];

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7e) return false;
  return bytes.length > 0;
}

export function heuristicsCheck(ctx: FilterContext): Check {
  return {
    name: SOURCE,
    async run(input): Promise<CheckResult> {
      const view = await readMessage(input);
      const symbols: FilterSymbol[] = [];
      for (const rule of rules) {
        const found = rule(ctx, input, view);
        if (found) symbols.push(found);
      }
      return { symbols };
    },
  };
}

/**
 * The FAQ pages on configuring mail clients (R-T4, contract §7), in the language of the interface
 * (GET /api/faq?lang=): a list of the pages, and each page on its own address.
 */
import { Load } from '../../../ds/Data.tsx';
import { Page } from '../../../ds/Page.tsx';
import { api, query, seg } from '../../../lib/api.ts';
import { lang, messages } from '../../../lib/i18n.ts';
import { useResource } from '../../../lib/resource.ts';
import type { Params } from '../../../lib/router.ts';
import { adminMail } from '../../../messages/admin-mail.ts';
import { Markdown } from './Markdown.tsx';

interface FaqPage {
  slug: string;
  title: string;
  body: string;
  topics: string[];
}

export default function Faq({ params }: { params: Params }) {
  const m = messages(adminMail).faq;
  const language = lang.value;
  const [resource, reload] = useResource(() => api.get<{ items: FaqPage[] }>(`/faq${query({ lang: language })}`), [language]);
  const slug = params.slug;
  if (!slug) {
    return (
      <Page title={m.title}>
        <p class="muted">{m.intro}</p>
        <Load resource={resource} retry={reload}>
          {({ items }) => (
            <ul class="faq-index">
              {items.map((page) => (
                <li key={page.slug}>
                  <a href={`/admin/faq/${seg(page.slug)}`}>{page.title}</a>
                </li>
              ))}
            </ul>
          )}
        </Load>
      </Page>
    );
  }
  const found = resource.status === 'ready' || resource.status === 'refreshing' ? resource.data.items.find((p) => p.slug === slug) : undefined;
  return (
    <Page title={found?.title ?? m.title}>
      <p>
        <a href="/admin/faq">{m.back}</a>
      </p>
      <Load resource={resource} retry={reload}>
        {() => (found ? <Markdown source={found.body} /> : <p>{m.notFound}</p>)}
      </Load>
    </Page>
  );
}

import type { AppContext } from '../../context.ts';
import { accountRoutes } from './accounts.ts';
import { auditRoutes } from './audit.ts';
import { authRoutes } from './auth.ts';
import { customerRoutes } from './customers.ts';
import { domainRoutes } from './domains.ts';
import { filterRoutes } from './filter.ts';
import type { Router } from './helpers.ts';
import { meRoutes } from './me.ts';
import { miscRoutes } from './misc.ts';
import { subscriptionRoutes } from './subscriptions.ts';

export function registerRoutes(api: Router, ctx: AppContext): void {
  authRoutes(api, ctx);
  meRoutes(api, ctx);
  customerRoutes(api, ctx);
  subscriptionRoutes(api, ctx);
  domainRoutes(api, ctx);
  accountRoutes(api, ctx);
  filterRoutes(api, ctx);
  miscRoutes(api, ctx);
  auditRoutes(api, ctx);
}

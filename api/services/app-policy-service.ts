import { actorOf, type Principal } from '../../domain/access';
import { DEFAULT_APP_POLICY, describeRefusal, policyFindings, policyRefusal, type AppPolicy } from '../../domain/app-policy';
import { ForbiddenError } from '../../domain/errors/forbidden-error';
import type { Plan } from '../../domain/plan';
import type { Stores } from '../../db/create-stores';
import { auditAppAction } from './app-audit';
import type { AppService } from './app-service';

export interface AppPolicyView extends AppPolicy {
  appId: string;
  /** Null while the app follows the default policy. */
  updatedBy: string | null;
  updatedAt: string | null;
}

export interface AppPolicyService {
  get(appId: string, principal: Principal): Promise<AppPolicyView>;
  /** Replaces the actions sent; the others keep their current roles. */
  update(appId: string, changes: Partial<AppPolicy>, principal: Principal): Promise<AppPolicyView>;
  /** Refuses (403) a written plan the caller's role may not start on the app. */
  enforce(appId: string, plan: Plan, principal: Principal): Promise<void>;
}

export function createAppPolicyService(stores: Pick<Stores, 'appPolicies' | 'audit'>, apps: AppService): AppPolicyService {
  const current = async (appId: string): Promise<AppPolicyView> => {
    const stored = await stores.appPolicies.get(appId);
    if (!stored) return { appId, ...DEFAULT_APP_POLICY, updatedBy: null, updatedAt: null };
    return { appId, ...stored.policy, updatedBy: stored.updatedBy, updatedAt: stored.updatedAt };
  };

  return {
    async get(appId, principal) {
      await apps.get(appId, principal);
      return current(appId);
    },
    async update(appId, changes, principal) {
      await apps.get(appId, principal);
      const { disable_gates, dry_run, skip_stages } = { ...(await current(appId)), ...changes };
      const policy: AppPolicy = { disable_gates, dry_run, skip_stages };
      const stored = await stores.appPolicies.put(appId, policy, actorOf(principal));
      await auditAppAction(stores, principal, 'app.policy', appId, { ...policy });
      return { appId, ...stored.policy, updatedBy: stored.updatedBy, updatedAt: stored.updatedAt };
    },
    async enforce(appId, plan, principal) {
      const findings = policyFindings(plan);
      if (findings.length === 0) return;
      const refusal = policyRefusal(await current(appId), principal.role, findings);
      if (!refusal) return;
      throw new ForbiddenError(describeRefusal(appId, principal.role, refusal), {
        policy: refusal.action,
        allowedRoles: refusal.allowedRoles,
        role: principal.role,
        findings: refusal.findings,
      });
    },
  };
}

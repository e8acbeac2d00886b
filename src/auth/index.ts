/** Authentication and authorisation: passwords, TOTP, sessions, API tokens, app passwords, throttling, roles. */
export { createApiToken, deleteApiToken, findApiToken, listApiTokens, TOKEN_PREFIX } from './api-tokens.ts';
export { type AppPasswordView, createAppPassword, deleteAppPassword, listAppPasswords, verifyMailLogin } from './app-passwords.ts';
export { beginTotpEnrolment, confirmTotpEnrolment, type LoginResult, loginKey, loginWithPassword, verifySecondFactor } from './login.ts';
export { checkPasswordRules, generatePassword, hashPassword, verifyPassword } from './passwords.ts';
export { CLI_OPERATOR, customerScope, type Principal, type Role } from './principal.ts';
export { changeOwnPassword, disableOwnTotp, regenerateRecoveryCodes, setOwnLanguage } from './self-service.ts';
export { createSession, deleteSession, deleteSessionsOf, findSession, type NewSession } from './sessions.ts';
export { LoginThrottle } from './throttle.ts';
export { newRecoveryCodes, verifyTotp } from './totp.ts';

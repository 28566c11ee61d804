/**
 * SQL condition, over `studios s JOIN tenants t`, for a studio that can call the Open API: it has an
 * Open API key and its operator a base URL. Hydration queues jobs only for such studios, and scheduled
 * reconciliation runs only for them; one definition keeps the two in agreement.
 */
export const HAS_OPEN_API_ACCESS = `s."apiKey" IS NOT NULL AND s."apiKey" <> '' AND t."baseUrl" IS NOT NULL`;

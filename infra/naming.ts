import { physicalName } from "./definitions";

/**
 * Every table and queue is named `${prefix}${logical}`, the prefix being app + stage, so the functions and the GPU
 * workers find them from MARKET_RESOURCE_PREFIX with the same code `npm start` runs.
 */
export const resourcePrefix = `${$app.name}-${$app.stage}-`;
export const resourceName = (logical: string) => physicalName(resourcePrefix, logical);

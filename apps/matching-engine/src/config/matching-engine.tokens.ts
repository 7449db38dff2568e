/** DI tokens of the matching-engine app. */
export const ENGINE_CONFIG = Symbol('ENGINE_CONFIG');
export const ENGINE_TRANSPORT = Symbol('ENGINE_TRANSPORT');
export const ENGINE_LOGGER = Symbol('ENGINE_LOGGER');

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { RELEASE_SEARCH_ATTRIBUTES } from '../domain/search-attributes';

const keyword = (name: (typeof RELEASE_SEARCH_ATTRIBUTES)[number]) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);

export const AppIdKey = keyword('AppId');
export const ReleaseVersionKey = keyword('ReleaseVersion');
export const ReleaseChannelKey = keyword('ReleaseChannel');
export const ReleaseStatusKey = keyword('ReleaseStatus');

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Make `temporal workflow list --query "AppId='com.example.app' AND ReleaseStatus='paused'"` useful. */
export const AppIdKey = defineSearchAttributeKey('AppId', SearchAttributeType.KEYWORD);
export const ReleaseVersionKey = defineSearchAttributeKey('ReleaseVersion', SearchAttributeType.KEYWORD);
export const ReleaseChannelKey = defineSearchAttributeKey('ReleaseChannel', SearchAttributeType.KEYWORD);
export const ReleaseStatusKey = defineSearchAttributeKey('ReleaseStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [AppIdKey, ReleaseVersionKey, ReleaseChannelKey, ReleaseStatusKey] as const;

/** `Name=Type` as `temporal server start-dev --search-attribute` takes them. */
export const SEARCH_ATTRIBUTE_FLAGS = SEARCH_ATTRIBUTES.map((key) => `${key.name}=Keyword`);

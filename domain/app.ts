export interface App {
  id: string;
  name: string;
  /** Bundle URLs may be plain http (a device then trusts the network for the download); default false. */
  allowHttpBundles: boolean;
  /** IANA zone in which quiet hours are judged for devices that report no time zone of their own. */
  defaultTimeZone: string;
  createdAt: string;
}

/** Reverse-DNS ids like `com.example.app`, as app stores use them. */
export const APP_ID_PATTERN = /^[a-zA-Z][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)+$/;

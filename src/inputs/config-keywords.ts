// The keywords of ssh_config and sshd_config, as OpenSSH's own parsers know them (facts: the
// keyword tables of readconf.c and servconf.c/servconf.h in openssh-portable, at V_9_9_P1 and at
// the master of 2026-11, deprecated and unsupported names included since old configs use them).
// A pasted block of `Keyword value` lines is a config only when its keywords are these; which
// side's keywords it uses tells ssh_config from sshd_config.

const words = (s: string): ReadonlySet<string> => new Set(s.trim().split(/\s+/));

/** ssh_config keywords (readconf.c), lowercase. */
export const CLIENT_KEYWORDS = words(`
  addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface
  canonicaldomains canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots
  canonicalizepermittedcnames casignaturealgorithms certificatefile
  challengeresponseauthentication channeltimeout checkhostip cipher ciphers clearallforwardings
  compression compressionlevel connectionattempts connecttimeout controlmaster controlpath
  controlpersist dsaauthentication dynamicforward enableescapecommandline enablesshkeysign
  escapechar exitonforwardfailure fallbacktorsh fingerprinthash forkafterauthentication
  forwardagent forwardx11 forwardx11timeout forwardx11trusted gatewayports globalknownhostsfile
  globalknownhostsfile2 gssapiauthentication gssapidelegatecredentials hashknownhosts host
  hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes hostkeyalgorithms
  hostkeyalias hostname identitiesonly identityagent identityfile identityfile2 ignoreunknown
  include ipqos kbdinteractiveauthentication kbdinteractivedevices keepalive
  kerberosauthentication kerberostgtpassing kexalgorithms knownhostscommand localcommand
  localforward loglevel logverbose macs match nohostauthenticationforlocalhost
  numberofpasswordprompts obscurekeystroketiming passwordauthentication permitlocalcommand
  permitremoteopen pkcs11provider port preferredauthentications protocol proxycommand proxyjump
  proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication
  refuseconnection rekeylimit remotecommand remoteforward requesttty requiredrsasize
  revokedhostkeys rhostsauthentication rhostsrsaauthentication rsaauthentication
  securitykeyprovider sendenv serveralivecountmax serveraliveinterval sessiontype setenv
  skeyauthentication smartcarddevice stdinnull streamlocalbindmask streamlocalbindunlink
  stricthostkeychecking syslogfacility tag tcpkeepalive tisauthentication tunnel tunneldevice
  updatehostkeys useprivilegedport user userknownhostsfile userknownhostsfile2 useroaming usersh
  verifyhostkeydns versionaddendum visualhostkey warnweakcrypto xauthlocation
`);

/** sshd_config keywords (servconf.c, servconf.h), lowercase. */
export const SERVER_KEYWORDS = words(`
  acceptenv addressfamily afstokenpassing allowagentforwarding allowgroups
  allowstreamlocalforwarding allowtcpforwarding allowusers authenticationmethods
  authorizedkeyscommand authorizedkeyscommanduser authorizedkeysfile authorizedkeysfile2
  authorizedprincipalscommand authorizedprincipalscommanduser authorizedprincipalsfile banner
  casignaturealgorithms challengeresponseauthentication channeltimeout checkmail chrootdirectory
  ciphers clientalivecountmax clientaliveinterval compression denygroups denyusers
  disableforwarding dsaauthentication exposeauthinfo fingerprinthash forcecommand gatewayports
  gssapiauthentication gssapicleanupcredentials gssapidelegatecredentials
  gssapistrictacceptorcheck hostbasedacceptedalgorithms hostbasedacceptedkeytypes
  hostbasedauthentication hostbasedusesnamefrompacketonly hostcertificate hostdsakey hostkey
  hostkeyagent hostkeyalgorithms ignorerhosts ignoreuserknownhosts include ipqos
  kbdinteractiveauthentication keepalive kerberosauthentication kerberosgetafstoken
  kerberosorlocalpasswd kerberostgtpassing kerberosticketcleanup kexalgorithms
  keyregenerationinterval listenaddress logingracetime loglevel logverbose macs match
  maxauthtries maxsessions maxstartups modulifile pamauthenticationviakbdint pamservicename
  passwordauthentication permitemptypasswords permitlisten permitopen permitrootlogin permittty
  permittunnel permituserenvironment permituserrc persourcemaxstartups persourcenetblocksize
  persourcepenalties persourcepenaltyexemptlist pidfile port printlastlog printmotd protocol
  pubkeyacceptedalgorithms pubkeyacceptedkeytypes pubkeyauthentication pubkeyauthoptions rdomain
  refuseconnection rekeylimit requiredrsasize reversemappingcheck revokedkeys
  rhostsauthentication rhostsrsaauthentication rsaauthentication securitykeyprovider
  serverkeybits setenv skeyauthentication sshdauthpath sshdsessionpath streamlocalbindmask
  streamlocalbindunlink strictmodes subsystem syslogfacility tcpkeepalive timingsecret
  trustedusercakeys unusedconnectiontimeout usedns uselogin usepam useprivilegeseparation
  verifyreversemapping versionaddendum x11displayoffset x11forwarding x11uselocalhost
  xauthlocation
`);

